using System.Net.Sockets;
using System.Text.Json.Nodes;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Service;

/// <summary>
/// The lab (deploy/lab/lab: real Postfix and Dovecot for the backup, a real Postfix primary,
/// the controller) in its own directory and ports, with the controller on a private bus
/// (<see cref="PrivateBus"/>) through <c>RESPALDO_CONTROL_BUS</c>, and respaldoctl to drive it.
/// </summary>
public class ServiceLab : IAsyncLifetime
{
    private readonly bool _permissiveBus;
    private readonly Dictionary<string, string> _labEnvironment = [];

    public ServiceLab() : this(permissiveBus: false) { }

    protected ServiceLab(bool permissiveBus) => _permissiveBus = permissiveBus;

    public string Directory { get; } = Path.Combine("/tmp", $"svc-lab-{Environment.ProcessId}-{Guid.NewGuid():N}"[..30]);

    public PrivateBus Bus { get; private set; } = null!;

    public IReadOnlyDictionary<string, string> Env { get; private set; } = new Dictionary<string, string>();

    public string this[string key] => Env.TryGetValue(key, out string? v) ? v : throw new KeyNotFoundException($"lab env has no {key}");

    public string CtlDll => this["RESPALDOCTL"].Split(' ', 2)[1];

    public string DaemonDll => Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(CtlDll)!)!)!, "Respaldo.Daemon", "release", "respaldod.dll");

    public string TenantId => "suempresa";

    public async Task InitializeAsync()
    {
        Bus = await PrivateBus.StartAsync(_permissiveBus);
        _labEnvironment["LAB_DIR"] = Directory;
        _labEnvironment["LAB_PORT_BASE"] = LabPorts.RandomFreeBase(20000, 400).ToString(System.Globalization.CultureInfo.InvariantCulture);
        _labEnvironment["RESPALDO_CONTROL_BUS"] = Bus.Address;
        // Note: the border (rspamd) has its own tier; these tests are about the service.
        _labEnvironment["LAB_FILTER"] = "off";
        await LabAsync("up");
        ProcessRunner.Result env = await LabAsync("env");
        Env = env.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        // Note: the mailboxes exist before their first message, as after any first delivery.
        // The watcher can miss a mailbox's very first message when Dovecot creates the maildir
        // and renames the file into new/ before inotify watches new/ (it is then found by the
        // next rescan, minutes later); these tests are about the service, not that race.
        foreach (string address in new[] { "info@suempresa.test", "ventas@suempresa.test", "juan@norte.suempresa.test" })
        {
            string[] parts = address.Split('@');
            foreach (string sub in new[] { "tmp", "new", "cur" })
            {
                System.IO.Directory.CreateDirectory(Path.Combine(this["BACKUP_MAILDIRS"], parts[1], parts[0], sub));
            }
        }
        // Note: as Dovecot would have made them: the mail user's, 2770 (deploy/lab/lab, state_permissions).
        await ProcessRunner.RunAsync("chown", ["-R", $"{this["MAIL_USER"]}:{this["MAIL_USER"]}", this["BACKUP_MAILDIRS"]]);
        await ProcessRunner.RunAsync("find", [this["BACKUP_MAILDIRS"], "-type", "d", "-exec", "chmod", "2770", "{}", "+"]);
        await Task.Delay(TimeSpan.FromSeconds(1));
    }

    public async Task DisposeAsync()
    {
        if (Environment.GetEnvironmentVariable("KEEP_LAB") == "1")
        {
            return;
        }
        await LabAsync("destroy", check: false);
        await Bus.DisposeAsync();
    }

    public async Task<ProcessRunner.Result> LabAsync(string command, bool check = true)
    {
        ProcessRunner.Result result = await ProcessRunner.RunAsync(Path.Combine(RepoPaths.Root, "deploy", "lab", "lab"), [command], _labEnvironment);
        if (check && result.ExitCode != 0)
        {
            throw new InvalidOperationException($"lab {command} failed: {result}");
        }
        return result;
    }

    /// <summary>respaldoctl on the lab's bus, as root or as another user (setpriv: uid, gid and supplementary groups).</summary>
    public Task<ProcessRunner.Result> CtlAsync(params string[] args) => CtlAsAsync(null, args);

    public Task<ProcessRunner.Result> CtlAsAsync(RunAs? user, params string[] args)
    {
        var environment = new Dictionary<string, string> { ["RESPALDO_CONTROL_BUS"] = Bus.Address, ["HOME"] = "/tmp", ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1" };
        if (user is null)
        {
            return ProcessRunner.RunAsync("dotnet", [CtlDll, .. args], environment);
        }
        string[] groups = user.Groups.Length == 0 ? ["--clear-groups"] : [$"--groups={string.Join(',', user.Groups)}"];
        return ProcessRunner.RunAsync("setpriv", [$"--reuid={user.Uid}", $"--regid={user.Gid}", .. groups, "dotnet", CtlDll, .. args], environment);
    }

    /// <summary>
    /// Sends one message to the backup MX over SMTP, as the Internet would: a 4xx (the front
    /// door's policy service not answering for a moment, say) is tried again a few times.
    /// </summary>
    public async Task SendAsync(string to, string subject)
    {
        (string host, int port) = Split(this["BACKUP_SMTP"]);
        Lab.SmtpReply reply = new(0, "");
        for (int attempt = 0; attempt < 30; attempt++)
        {
            await using (SmtpTestClient client = await SmtpTestClient.ConnectAsync(host, port))
            {
                await client.CommandAsync("EHLO sender.example.org");
                reply = await client.SendAsync("sender@example.org", [to], TestMessages.Plain(subject, to));
                await client.CommandAsync(reply.Code == 250 ? "QUIT" : "RSET");
            }
            if (reply.Code is not (>= 400 and < 500))
            {
                break;
            }
            await Task.Delay(TimeSpan.FromSeconds(2));
        }
        Assert.True(reply.Code == 250, $"backup refused the message: {reply.Code} {reply.Text}");
    }

    public IReadOnlyList<string> Messages(string side, string address) =>
        MaildirFiles(this[side == "backup" ? "BACKUP_MAILDIRS" : "PRIMARY_MAILDIRS"], address);

    public static IReadOnlyList<string> MaildirFiles(string root, string address)
    {
        string[] parts = address.Split('@');
        return new[] { "new", "cur" }.Select(d => Path.Combine(root, parts[1], parts[0], d))
            .Where(System.IO.Directory.Exists).SelectMany(System.IO.Directory.EnumerateFiles).ToList();
    }

    /// <summary>Subjects of the messages in a maildir (the tests give every message a unique one).</summary>
    public IReadOnlyList<string> Subjects(string side, string address) => Messages(side, address)
        .Select(f => File.ReadLines(f).FirstOrDefault(l => l.StartsWith("Subject: ", StringComparison.Ordinal))?[9..] ?? "")
        .ToList();

    /// <summary>Edits the lab's configuration file (JSON with comments is not used by the lab).</summary>
    /// <summary>How many tenants the lab's configuration file has now (the daemon logs it on a reload).</summary>
    public int TenantCount => JsonNode.Parse(File.ReadAllText(this["CONFIG"]))!["tenants"]!.AsArray().Count;

    public void EditConfig(Action<JsonObject> edit)
    {
        JsonObject config = JsonNode.Parse(File.ReadAllText(this["CONFIG"]))!.AsObject();
        edit(config);
        LabConfig.KeepTestsInCharge(config);
        File.WriteAllText(this["CONFIG"], config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        DateTime until = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"timed out waiting for {what}");
            }
            await Task.Delay(100);
        }
    }

    public static (string Host, int Port) Split(string hostPort)
    {
        int colon = hostPort.LastIndexOf(':');
        return (hostPort[..colon], int.Parse(hostPort[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }
}

/// <summary>A lab whose bus allows every call, so that only respaldod's own caller check refuses.</summary>
public sealed class PermissiveBusLab : ServiceLab
{
    public PermissiveBusLab() : base(permissiveBus: true) { }
}

/// <summary>Who runs respaldoctl (setpriv); nobody/nogroup by default.</summary>
public sealed record RunAs(string Uid, string Gid, params string[] Groups)
{
    public static RunAs Nobody { get; } = new("nobody", "nogroup");
}
