using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace Respaldo.Tests.Lab;

/// <summary>
/// A private lab for the integration tier: <c>deploy/lab/lab up</c> in its own directory and
/// on its own ports, so it never meets a demo lab left running. Torn down with <c>lab down</c>.
/// Binaries come from the Release build (<c>make build</c>), as the lab itself expects.
/// Designed for inheritance: a variant passes its name, lab environment (LAB_PRIMARY_TLS, ...)
/// and edits the default configuration in <see cref="Configure"/> before <c>lab up</c>.
/// </summary>
public class LabFixture : IAsyncLifetime
{
    private readonly bool _configured;

    public LabFixture() : this("", new Dictionary<string, string>(), configured: false) { }

    protected LabFixture(string name, IReadOnlyDictionary<string, string> environment, bool configured = true)
    {
        Directory = Path.Combine("/var/tmp", $"respaldo-test-lab-{(name.Length > 0 ? name + "-" : "")}{Environment.ProcessId}");
        foreach ((string k, string v) in environment)
        {
            ScriptEnvironment[k] = v;
        }
        _configured = configured;
    }

    public string Directory { get; }

    /// <summary>Edits the lab's default configuration (respaldo.json) before the lab starts.</summary>
    protected virtual void Configure(JsonObject config)
    {
    }

    public IReadOnlyDictionary<string, string> Env { get; private set; } = new Dictionary<string, string>();

    public string LabScript => Path.Combine(RepoPaths.Root, "deploy", "lab", "lab");

    public string this[string key] => Env.TryGetValue(key, out string? v) ? v : throw new KeyNotFoundException($"lab env has no {key}");

    public (string Host, int Port) BackupSmtp => Split(this["BACKUP_SMTP"]);

    public (string Host, int Port) PrimarySmtp => Split(this["PRIMARY_SMTP"]);

    private Dictionary<string, string> ScriptEnvironment { get; } = [];

    public virtual async Task InitializeAsync()
    {
        if (System.IO.Directory.Exists(Directory))
        {
            await RunLabAsync("destroy", check: false).ConfigureAwait(false);
        }
        ScriptEnvironment["LAB_DIR"] = Directory;
        ScriptEnvironment["LAB_PORT_BASE"] = LabPorts.RandomFreeBase(20000, 400).ToString(System.Globalization.CultureInfo.InvariantCulture);
        // Note: the lab's milter (rspamd) prepends Authentication-Results and an ARC set to what
        // it accepts, and defers senders whose domains the lab's DNS does not know; the tiers
        // that compare with a plain relay byte for byte run without it. The border's own tests
        // (Border/) turn it on.
        ScriptEnvironment.TryAdd("LAB_FILTER", "off");
        if (_configured)
        {
            string path = (await RunLabAsync("config").ConfigureAwait(false)).Output.Trim();
            JsonObject config = JsonNode.Parse(await File.ReadAllTextAsync(path).ConfigureAwait(false))!.AsObject();
            Configure(config);
            LabConfig.KeepTestsInCharge(config);
            await File.WriteAllTextAsync(path, config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true })).ConfigureAwait(false);
        }
        await RunLabAsync("up").ConfigureAwait(false);
        ProcessRunner.Result env = await RunLabAsync("env").ConfigureAwait(false);
        Env = env.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1]);
    }

    public virtual async Task DisposeAsync()
    {
        if (Environment.GetEnvironmentVariable("KEEP_LAB") == "1")
        {
            return;
        }
        await RunLabAsync("destroy", check: false).ConfigureAwait(false);
    }

    public async Task<ProcessRunner.Result> RunLabAsync(string command, bool check = true)
    {
        ProcessRunner.Result result = await ProcessRunner.RunAsync(LabScript, [command], ScriptEnvironment).ConfigureAwait(false);
        if (check && result.ExitCode != 0)
        {
            throw new InvalidOperationException($"lab {command} failed: {result}");
        }
        return result;
    }

    /// <summary>'lab ctl ARGS': respaldoctl against the lab's daemon over the lab's control bus, as the demo tells a newcomer to run it.</summary>
    public Task<ProcessRunner.Result> LabCtlAsync(params string[] args) =>
        ProcessRunner.RunAsync(LabScript, ["ctl", .. args], ScriptEnvironment);

    /// <summary>Runs respaldoctl (the Release build the lab uses).</summary>
    public Task<ProcessRunner.Result> RespaldoctlAsync(params string[] args)
    {
        string[] command = this["RESPALDOCTL"].Split(' ', 2);
        return ProcessRunner.RunAsync(command[0], [command[1], .. args]);
    }

    public IEnumerable<string> BackupMessages(string address) => Messages(this["BACKUP_MAILDIRS"], address);

    public IEnumerable<string> PrimaryMessages(string address) => Messages(this["PRIMARY_MAILDIRS"], address);

    /// <summary>Files in new/ and cur/ of the maildir of <paramref name="address"/> (domain/local-part layout).</summary>
    public static IEnumerable<string> Messages(string root, string address)
    {
        string[] parts = address.Split('@');
        string maildir = Path.Combine(root, parts[1], parts[0]);
        return new[] { "new", "cur" }
            .Select(d => Path.Combine(maildir, d))
            .Where(System.IO.Directory.Exists)
            .SelectMany(System.IO.Directory.EnumerateFiles)
            .ToList();
    }

    private static (string, int) Split(string hostPort)
    {
        int colon = hostPort.LastIndexOf(':');
        return (hostPort[..colon], int.Parse(hostPort[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }
}
