using System.Globalization;
using System.Text.Json.Nodes;
using Respaldo.Tests.Faults;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.ChaosLab;

/// <summary>
/// A lab whose tenant's primary is the faulty primary: the controller talks to the proxy,
/// the proxy to the lab's real primary Postfix. The controller's pace is quick and its
/// timeouts short (3 s per command, 15 s for the reply to the end of data) so that stalls and
/// outages resolve within seconds. The proxy starts up and without faults; each test leaves
/// it so.
/// </summary>
public class ChaosLabFixture : LabFixture
{
    public ChaosLabFixture() : this("chaos")
    {
    }

    protected ChaosLabFixture(string name) : base(name, new Dictionary<string, string>())
    {
    }

    public FaultyPrimary Proxy { get; private set; } = null!;

    protected override void Configure(JsonObject config)
    {
        JsonNode tenant = config["tenants"]![0]!;
        string real = tenant["primary"]!["hosts"]![0]!.GetValue<string>();
        int colon = real.LastIndexOf(':');
        // Note: 11 faulty sessions for every 4 clean ones: a hand-over session carries many
        // messages, so faults must be dense for every kind to strike within a short run.
        Proxy = FaultyPrimary.Start(real[..colon], int.Parse(real[(colon + 1)..], CultureInfo.InvariantCulture), ChaosSettings.Seed, passes: 4);
        tenant["primary"]!["hosts"] = new JsonArray(Proxy.Address);
        config["controller"] = new JsonObject
        {
            ["probeIntervalSeconds"] = 0.5,
            ["probeIntervalMaxSeconds"] = 2,
            ["commandTimeoutSeconds"] = 3,
            ["dataTimeoutSeconds"] = 15,
            ["retryMaxSeconds"] = 2,
        };
        ConfigureMore(config);
    }

    /// <summary>Further edits of a variant (storage on a small file system, ...).</summary>
    protected virtual void ConfigureMore(JsonObject config)
    {
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Proxy is not null)
        {
            await Proxy.DisposeAsync();
        }
    }

    /// <summary>SIGKILL the controller through the lab's own hook, as a person staging the fault would.</summary>
    public async Task KillControllerAsync()
    {
        ProcessRunner.Result r = await RunLabAsync("controller-kill", check: false);
        Assert.True(r.ExitCode == 0, $"lab controller-kill: {r}");
    }

    /// <summary>
    /// lab controller-start; on a loaded machine the daemon may take longer to open its port than
    /// the script waits (10 s): then the process is running and we wait for the port ourselves.
    /// </summary>
    public async Task StartControllerAsync()
    {
        ProcessRunner.Result r = await RunLabAsync("controller-start", check: false);
        if (r.ExitCode == 0)
        {
            return;
        }
        ProcessRunner.Result status = await RunLabAsync("status", check: false);
        Assert.True(status.Output.Contains("controller         up", StringComparison.Ordinal), $"controller did not start: {r}\n{status}");
        Uri web = new(this["WEB_URL"]);
        await Eventually.WaitAsync(() => Task.FromResult(PortOpen(web.Host, web.Port)), open => open, TimeSpan.FromSeconds(60), "controller web port");
    }

    public async Task<bool> PrimaryQueueEmptyAsync() =>
        (await ProcessRunner.RunAsync("postqueue", ["-c", this["PRIMARY_POSTFIX"], "-p"])).Output.Contains("Mail queue is empty", StringComparison.Ordinal);

    public async Task<bool> BackupQueueEmptyAsync() =>
        (await ProcessRunner.RunAsync("postqueue", ["-c", this["BACKUP_POSTFIX"], "-p"])).Output.Contains("Mail queue is empty", StringComparison.Ordinal);

    /// <summary>Asks the backup's Postfix to retry what it deferred (postqueue -f), as an admin would after Dovecot returns.</summary>
    public Task FlushBackupQueueAsync() => ProcessRunner.RunAsync("postqueue", ["-c", this["BACKUP_POSTFIX"], "-f"]);

    private static bool PortOpen(string host, int port)
    {
        try
        {
            using var c = new System.Net.Sockets.TcpClient();
            c.Connect(host, port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ChaosLabCollection : ICollectionFixture<ChaosLabFixture>
{
    public const string Name = "chaos-lab";
}
