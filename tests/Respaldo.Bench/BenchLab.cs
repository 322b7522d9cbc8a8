using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Respaldo.Tests;
using Respaldo.Tests.Lab;

namespace Respaldo.Bench;

/// <summary>
/// The benchmark's own lab: <c>deploy/lab/lab</c> in its own directory and on its own ports,
/// so it never meets the lead's lab or a test lab. Postfix, Dovecot, the controller and the
/// primary are the lab's; this class only drives the script and reads what it reports.
/// </summary>
public sealed class BenchLab
{
    private readonly Dictionary<string, string> _scriptEnvironment;

    private BenchLab(string directory, int portBase, bool filter)
    {
        Directory = directory;
        PortBase = portBase;
        // Note: without the border (LAB_FILTER=off) the stored copies are the bytes a plain
        // relay-mode Postfix keeps, so the hand-over phases compare like with like; the intake
        // phase (f) has a lab of its own with the border on.
        _scriptEnvironment = new Dictionary<string, string>
        {
            ["LAB_DIR"] = directory,
            ["LAB_PORT_BASE"] = portBase.ToString(CultureInfo.InvariantCulture),
            ["LAB_FILTER"] = filter ? "on" : "off",
            // Note: the benchmark times the controller's first full scan itself (event 1104), with a
            // backlog that may take minutes: the lab returns once the web port is open.
            ["LAB_SCAN_WAIT"] = "0",
        };
    }

    public string Directory { get; }

    public int PortBase { get; }

    public IReadOnlyDictionary<string, string> Env { get; private set; } = new Dictionary<string, string>();

    public string this[string key] => Env.TryGetValue(key, out string? v) ? v : throw new KeyNotFoundException($"lab env has no {key}");

    public IPEndPoint BackupSmtp => Parse(this["BACKUP_SMTP"]);

    public IPEndPoint PrimarySmtp => Parse(this["PRIMARY_SMTP"]);

    /// <summary>A port the lab does not use (+24 LMTP, +25 backup, +26 primary, +43 IMAP, +80 web): the relay-mode Postfix.</summary>
    public int RelayPort => PortBase + 27;

    public int ControllerPid => int.Parse(File.ReadAllText(this["CONTROLLER_PIDFILE"]).Trim(), CultureInfo.InvariantCulture);

    public static BenchLab Create(BenchOptions options) => Create(options.LabDirectory, options.PortBase, "BENCH_PORT_BASE");

    /// <summary>A lab without the border in <paramref name="directory"/>, on the given port base or the first free one from 13000.</summary>
    public static BenchLab Create(string directory, int? portBase, string knob)
    {
        int chosen = portBase ?? LabPorts.FirstFreeBase(13000, 30000);
        if (!LabPorts.AllFree(chosen))
        {
            throw new InvalidOperationException($"ports {chosen}+{string.Join(",+", LabPorts.Offsets)} are not all free: choose another {knob}");
        }
        return new BenchLab(Path.GetFullPath(directory), chosen, filter: false);
    }

    /// <summary>A second lab, with the border on (rspamd as the milter), for the intake phase.</summary>
    public static BenchLab CreateWithBorder(BenchOptions options) =>
        new(Path.GetFullPath(options.LabDirectory) + "-border", LabPorts.FirstFreeBase(13000, 30000), filter: true);

    private const string EmptyPrefix = "buzon";

    public async Task<ProcessRunner.Result> RunAsync(string command, bool check = true, TimeSpan? timeout = null)
    {
        string script = Path.Combine(RepoPaths.Root, "deploy", "lab", "lab");
        ProcessRunner.Result result = await ProcessRunner.RunAsync(script, [command], _scriptEnvironment, timeout: timeout ?? TimeSpan.FromMinutes(2));
        if (check && result.ExitCode != 0)
        {
            throw new InvalidOperationException($"lab {command} failed: {result}");
        }
        if (command is "up" or "config")
        {
            ProcessRunner.Result env = await ProcessRunner.RunAsync(script, ["env"], _scriptEnvironment);
            Env = env.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split('=', 2))
                .ToDictionary(p => p[0], p => p[1]);
        }
        return result;
    }

    /// <summary>
    /// Adds <paramref name="count"/> mailboxes to the lab's first tenant ('lab config' wrote the
    /// file; 'lab up' keeps a file that exists).
    /// </summary>
    public IReadOnlyList<string> AddMailboxes(int count)
    {
        string path = this["CONFIG"];
        JsonNode root = JsonNode.Parse(File.ReadAllText(path)) ?? throw new InvalidOperationException($"{path} is empty");
        JsonObject tenant = root["tenants"]![0]!.AsObject();
        string domain = tenant["domains"]![0]!.GetValue<string>();
        JsonArray mailboxes = tenant["mailboxes"]!.AsArray();
        var added = new List<string>(count);
        for (int i = 1; i <= count; i++)
        {
            string address = string.Create(CultureInfo.InvariantCulture, $"{EmptyPrefix}{i:0000}@{domain}");
            mailboxes.Add(new JsonObject { ["address"] = address });
            added.Add(address);
        }
        File.WriteAllText(path, root.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        return added;
    }

    /// <summary>
    /// The mailboxes that receive the benchmark's mail: those of the lab's first tenant that the
    /// lab's primary has, asked of the primary's own <c>virtual_mailbox_maps</c> after <c>lab up</c>
    /// wrote it. Note: a mailbox the primary does not have (the lab's <c>antiguo@</c>, kept for
    /// the hold tests) would have its share of the mail held at hand-over, and a phase would
    /// wait for messages that never reach the primary. The empty mailboxes the benchmark added
    /// are never sampled.
    /// </summary>
    public async Task<(IReadOnlyList<string> Sample, IReadOnlyList<string> LeftOut)> SampleMailboxesAsync()
    {
        JsonNode root = JsonNode.Parse(await File.ReadAllTextAsync(this["CONFIG"]))!;
        List<string> tenant = root["tenants"]![0]!["mailboxes"]!.AsArray()
            .Select(m => m!["address"]!.GetValue<string>())
            .Where(a => !a.StartsWith(EmptyPrefix, StringComparison.Ordinal))
            .ToList();
        HashSet<string> primary = await PrimaryHasAsync(tenant);
        List<string> sample = tenant.Where(primary.Contains).ToList();
        if (sample.Count == 0)
        {
            throw new InvalidOperationException(
                $"the lab's primary ({this["PRIMARY_POSTFIX"]}) has none of the tenant's mailboxes ({string.Join(", ", tenant)}): nothing to send to");
        }
        return (sample, tenant.Where(a => !primary.Contains(a)).ToList());
    }

    /// <summary>Which of <paramref name="addresses"/> the primary's virtual_mailbox_maps know (postmap -q - reads keys from stdin).</summary>
    private async Task<HashSet<string>> PrimaryHasAsync(IReadOnlyList<string> addresses)
    {
        string config = this["PRIMARY_POSTFIX"];
        ProcessRunner.Result maps = await ProcessRunner.RunAsync("postconf", ["-c", config, "-xh", "virtual_mailbox_maps"]);
        if (maps.ExitCode != 0 || maps.Output.Trim().Length == 0)
        {
            throw new InvalidOperationException($"cannot read the primary's virtual_mailbox_maps: {maps}");
        }
        var found = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        string keys = string.Join('\n', addresses) + "\n";
        foreach (string map in maps.Output.Split([',', ' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries))
        {
            // Note: postmap -q exits 1 when no key was found; only other statuses are errors.
            ProcessRunner.Result q = await ProcessRunner.RunAsync("postmap", ["-c", config, "-q", "-", map], stdin: keys);
            if (q.ExitCode is not (0 or 1))
            {
                throw new InvalidOperationException($"postmap -q - {map} failed: {q}");
            }
            found.UnionWith(q.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t', ' ')[0]));
        }
        return found;
    }

    private static IPEndPoint Parse(string hostPort)
    {
        int colon = hostPort.LastIndexOf(':');
        return new IPEndPoint(IPAddress.Parse(hostPort[..colon]), int.Parse(hostPort[(colon + 1)..], CultureInfo.InvariantCulture));
    }
}
