using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Respaldo.Configuration;
using Respaldo.HandOver;
using Respaldo.Supervision;
using Respaldo.Tests.ChaosLab;
using Respaldo.Tests.Faults;
using Respaldo.Tests.Lab;
using Xunit.Abstractions;
using Respaldo.Events;
using Respaldo.Health;

namespace Respaldo.Tests.SlowPrimary;

/// <summary>
/// A primary that takes a big message slowly, a tarpit, and a stop or a reload in the middle of
/// a big message. The controller's runtime runs in this process (its own state directory, two
/// tenants) so that its heartbeats can be read; tenant "lento" reaches the lab's primary Postfix
/// through a faulty primary of its own (with a small receive buffer, so that the controller feels
/// the pace), tenant "otro" reaches it directly.
/// </summary>
[Collection(ChaosLabCollection.Name)]
public sealed class SlowPrimaryTests(ChaosLabFixture lab, ITestOutputHelper output) : IAsyncLifetime
{
    private const string Lento = "lento";
    private const string Otro = "otro";
    private readonly string _dir = Directory.CreateTempSubdirectory("respaldo-slow-").FullName;
    private FaultyPrimary _proxy = null!;
    private MaildirCensus _primary = null!;
    private int _serial;

    public Task InitializeAsync()
    {
        (string host, int port) = lab.PrimarySmtp;
        _proxy = FaultyPrimary.Start(host, port, ChaosSettings.Seed, passes: 1, receiveBuffer: 8192);
        _proxy.Up(faults: false);
        _primary = new MaildirCensus(lab["PRIMARY_MAILDIRS"]);
        _primary.IgnoreExisting();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>
    /// Issue 16: the tenant's loop beat only when a message was settled, allowing 6 command
    /// timeouts + dataTimeout + 30 s (52 s here) for each; a message that takes longer, however
    /// steadily it goes, made the watchdog restart the whole daemon, and the message started over
    /// (forever). Now the loop beats while bytes move.
    /// </summary>
    [Fact]
    public async Task ABigMessageToASlowPrimaryThatKeepsReadingKeepsTheWatchdogFedAndIsDeliveredOnce()
    {
        RespaldoSettings settings = Settings(commandTimeout: 2, dataTimeout: 10, minimumDataRate: "16KiB");
        string sender = Sender("slow");
        // 3 MiB at 48 KiB/s: about 64 s, longer than the old per-message allowance (6 × 2 s + 10 s + 30 s).
        _proxy.Force(new FaultPlan(FaultKind.Throttle, BytesPerSecond: 48 * 1024), sender);
        string copy = Store(settings, "suempresa.test", "info", sender, 3 * 1024 * 1024);
        var overdue = new List<string>();
        List<(string Outcome, string Reply, double Ms)> attempts;

        await using (var run = await ControllerRun.StartAsync(settings))
        {
            await Eventually.WaitAsync(() =>
            {
                // Note: what the watchdog pinger reads every WatchdogSec/2.
                overdue.AddRange(Heartbeat.Overdue(run.Runtime.Supervisor.Heartbeats, DateTimeOffset.UtcNow));
                return Task.FromResult(!File.Exists(copy) && Copies(sender) == 1);
            }, done => done, TimeSpan.FromSeconds(150), "the slow message delivered and its copy deleted");
            attempts = await Eventually.WaitAsync(() => Task.FromResult(Attempts(run.Journal, copy)), a => a.Count > 0, TimeSpan.FromSeconds(30), "the delivery journaled");
        }

        // In one attempt (not a deferral and a quick retry), and longer than the old allowance: the test's premise.
        (string outcome, string reply, double ms) = Assert.Single(attempts);
        output.WriteLine($"{outcome} after {ms:0} ms: {reply}");
        Assert.Equal("delivered", outcome);
        Assert.True(ms > 52_000, $"the slow message took only {ms:0} ms");
        Assert.Empty(overdue);
        Assert.Equal(1, _proxy.Ledger.Count(FaultKind.Throttle));
        Assert.Equal(1, Copies(sender));
    }

    /// <summary>
    /// A tarpit takes the data fast enough to dodge every write timeout but slower than
    /// controller.minimumDataRate: the message's deadline (its
    /// size at that rate, plus the timeouts) ends it as deferred, nothing reaches the primary,
    /// and meanwhile the other tenant hands its mail over. Before, nothing bounded the message.
    /// </summary>
    [Fact]
    public async Task ATarpitEndsItsMessageDeferredWithinItsDeadlineWhileAnotherTenantHandsOver()
    {
        // Note: 48 KiB/s wakes a blocked write (after 64 KiB drained) within the 2 s command timeout,
        // but is below the 80 KiB/s minimum; 2.5 MiB would need 53 s, the deadline is 2 × 4 + 2 + 32 = 42 s.
        RespaldoSettings settings = Settings(commandTimeout: 2, dataTimeout: 2, minimumDataRate: "80KiB");
        string sender = Sender("tarpit");
        _proxy.Force(new FaultPlan(FaultKind.Throttle, BytesPerSecond: 48 * 1024), sender);
        string copy = Store(settings, "suempresa.test", "info", sender, 2560 * 1024);
        string otherSender = Sender("other");
        List<(string Outcome, string Reply, double Ms)> attempts;

        await using (var run = await ControllerRun.StartAsync(settings))
        {
            await Eventually.WaitAsync(() => Task.FromResult(_proxy.Ledger.Count(FaultKind.Throttle)), n => n == 1, TimeSpan.FromSeconds(60), "the tarpit took the message");
            string other = Store(settings, "norte.suempresa.test", "juan", otherSender, 20 * 1024);
            run.Runtime.Supervisor.Find(Otro)!.HandOverNow();
            await Eventually.WaitAsync(() => Task.FromResult(!File.Exists(other) && Copies(otherSender) == 1), d => d, TimeSpan.FromSeconds(60), "the other tenant's message delivered");
            // Meanwhile: the tarpit's message is still in flight.
            Assert.NotNull(run.Runtime.Supervisor.Find(Lento)!.Current);
            Assert.Empty(Attempts(run.Journal, copy));
            attempts = await Eventually.WaitAsync(() => Task.FromResult(Attempts(run.Journal, copy)), a => a.Count > 0, TimeSpan.FromSeconds(120), "the tarpit's message settled");
        }

        (string outcome, string reply, double ms) = attempts[0];
        output.WriteLine($"{outcome} after {ms:0} ms: {reply}");
        TimeSpan deadline = MessageDeadline.For(new FileInfo(copy).Length, settings.Controller);
        Assert.Equal("deferred", outcome);
        Assert.Contains("deadline", reply, StringComparison.Ordinal);
        Assert.InRange(ms, 0, (deadline + TimeSpan.FromSeconds(2)).TotalMilliseconds);
        Assert.True(File.Exists(copy));
        Assert.Equal(0, Copies(sender));
    }

    /// <summary>
    /// Issue 16: a stop cancelled the message in flight, and after the final dot that is a
    /// duplicate at the next start. Now a stop starts no new message but lets the one in flight
    /// finish (within dataTimeout), journal its 250 and delete its copy; the next start finds nothing to send.
    /// </summary>
    [Fact]
    public async Task AStopDuringABigMessageToASlowPrimaryLetsItFinishOnceAndTheRestartSendsNothing()
    {
        RespaldoSettings settings = Settings(commandTimeout: 2, dataTimeout: 15, minimumDataRate: "16KiB");
        string sender = Sender("stop");
        _proxy.Force(new FaultPlan(FaultKind.Throttle, BytesPerSecond: 64 * 1024), sender);
        string copy = Store(settings, "suempresa.test", "info", sender, 400 * 1024);

        await using (var run = await ControllerRun.StartAsync(settings))
        {
            await WhileSendingAsync(run, sender);
            await run.StopAsync();
            Assert.Equal(1, run.Runtime.Supervisor.Find(Lento)!.Last?.Delivered);
        }

        Assert.False(File.Exists(copy), "the copy of the message in flight at the stop is still there");
        Assert.Equal(1, Copies(sender));
        await using (var again = await ControllerRun.StartAsync(settings))
        {
            await again.Runtime.Supervisor.Watcher.Ready;
            Assert.Equal(0, again.Runtime.Supervisor.Index.Totals(Lento).Count);
        }
        Assert.Equal(1, Copies(sender));
    }

    /// <summary>
    /// The same for a reload (SIGHUP, respaldoctl reload): the supervisor stays, the message in
    /// flight is not cut, it is delivered once and its copy deleted.
    /// </summary>
    [Fact]
    public async Task AReloadDuringABigMessageToASlowPrimaryLetsItFinishOnce()
    {
        RespaldoSettings settings = Settings(commandTimeout: 2, dataTimeout: 15, minimumDataRate: "16KiB");
        string sender = Sender("reload");
        _proxy.Force(new FaultPlan(FaultKind.Throttle, BytesPerSecond: 64 * 1024), sender);
        string copy = Store(settings, "suempresa.test", "info", sender, 400 * 1024);

        await using (var run = await ControllerRun.StartAsync(settings))
        {
            Supervisor supervisor = run.Runtime.Supervisor;
            await WhileSendingAsync(run, sender);
            HandOverProgress inFlight = supervisor.Find(Lento)!.Current!;
            Assert.Empty(await run.Runtime.ReloadAsync(CancellationToken.None));
            Assert.Same(supervisor, run.Runtime.Supervisor);
            await Eventually.WaitAsync(() => Task.FromResult(supervisor.Find(Lento)!.Last), last => last is not null, TimeSpan.FromSeconds(120), "the hand-over in flight at the reload to end");
            Assert.Same(inFlight, supervisor.Find(Lento)!.Last);
            Assert.Equal(1, inFlight.Delivered);
            Assert.False(File.Exists(copy), "the copy of the message in flight at the reload is still there");
            Assert.Equal(0, supervisor.Index.Totals(Lento).Count);
        }
        Assert.Equal(1, Copies(sender));
    }

    /// <summary>
    /// Issue 13: a reload built a new supervisor (a full rescan, every retry time and every
    /// primary's state lost, the message in flight cut). Three reloads during a hand-over of 500
    /// messages: each lands while mail is moving, nothing is sent twice, and the log says the
    /// index was kept each time, with no full scan but the first.
    /// </summary>
    [Fact]
    public async Task ThreeReloadsDuringAHandOverOf500MessagesGiveNoDuplicateAndNoRescan()
    {
        const int Messages = 500;
        RespaldoSettings settings = Settings(commandTimeout: 5, dataTimeout: 15, minimumDataRate: "16KiB", lentoRate: 40);
        string batch = "three." + Guid.NewGuid().ToString("N")[..8];
        for (int i = 0; i < Messages; i++)
        {
            Store(settings, "suempresa.test", "info", $"{batch}.{i}@example.org", 2 * 1024);
        }

        var logs = new ListLoggerFactory();
        await using (var run = await ControllerRun.StartAsync(settings, logs))
        {
            Supervisor supervisor = run.Runtime.Supervisor;
            await supervisor.Watcher.Ready.WaitAsync(TimeSpan.FromSeconds(60));
            int scans = supervisor.Watcher.Scans;
            foreach (int point in new[] { 400, 250, 100 })
            {
                await Eventually.WaitAsync(() => Task.FromResult(supervisor.Index.Totals(Lento).Count), n => n <= point, TimeSpan.FromSeconds(120), $"the hand-over down to {point} waiting");
                Assert.True(supervisor.Find(Lento)!.Current is not null, $"no hand-over in flight at {point} waiting");
                Assert.Empty(await run.Runtime.ReloadAsync(CancellationToken.None));
                Assert.True(supervisor.Index.Totals(Lento).Count > 0, "the hand-over ended before the reload was applied");
            }
            await Eventually.WaitAsync(() => Task.FromResult(supervisor.Index.Totals(Lento).Count), n => n == 0, TimeSpan.FromSeconds(120), "the backup to empty");
            Assert.Same(supervisor, run.Runtime.Supervisor);
            Assert.Equal(scans, supervisor.Watcher.Scans);
            output.WriteLine(string.Join('\n', logs.Logger.Lines.Where(l => l.EventId is 1003 or 1011 or 1012 or 1104).Select(l => l.Text)));
            Assert.Equal(3, logs.Logger.Count(1012));
            Assert.Equal(0, logs.Logger.Count(1011));
            Assert.Equal(scans, logs.Logger.Count(1104));
        }
        List<string> senders = _primary.Scan(k => k.Sender.StartsWith(batch, StringComparison.Ordinal)).Select(c => c.Key.Sender).ToList();
        Assert.Equal(Messages, senders.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(Messages, senders.Count);
    }

    /// <summary>
    /// A reload that shortens probeIntervalSeconds brings the next probe of a primary that is
    /// down forward at once, and a deferred message keeps its retry time (it is not tried again
    /// before it is due, as it was when the reload started a new retry schedule).
    /// </summary>
    [Fact]
    public async Task AChangedProbeIntervalTakesEffectWithoutLosingARetryTime()
    {
        RespaldoSettings slow = Settings(commandTimeout: 2, dataTimeout: 10, minimumDataRate: "16KiB", probeInterval: 30, probeIntervalMax: 60);
        string deferred = Sender("deferred");
        _proxy.Force(new FaultPlan(FaultKind.TransientReply, FaultPoint.Mail, Code: 451), deferred);
        string copy = Store(slow, "suempresa.test", "info", deferred, 4 * 1024);

        await using var run = await ControllerRun.StartAsync(slow);
        TenantSupervisor lento = run.Runtime.Supervisor.Find(Lento)!;
        await Eventually.WaitAsync(() => Task.FromResult(Attempts(run.Journal, copy).Count), n => n == 1, TimeSpan.FromSeconds(60), "the first attempt, deferred");
        Assert.Equal("deferred", Attempts(run.Journal, copy)[0].Outcome);
        string key = run.Runtime.Supervisor.Index.Snapshot(Lento).Single().Key;
        DateTimeOffset due = run.Runtime.Supervisor.Find(Lento)!.Retries.NextDue([key])!.Value;

        // The primary goes away; new mail makes the loop probe it, and back off 30 s.
        _proxy.Down(FaultKind.RefuseConnections);
        Store(slow, "suempresa.test", "info", Sender("waiting"), 4 * 1024);
        await Eventually.WaitAsync(() => Task.FromResult(lento.State.Status), s => s == Primary.PrimaryStatus.Down, TimeSpan.FromSeconds(60), "the probe that finds the primary down");
        // Note: the probe at start (up) and this one (down), once the journal has them both.
        int probes = await Eventually.WaitAsync(() => Task.FromResult(Probes(run.Journal)), n => n >= 2, TimeSpan.FromSeconds(10), "both probes journaled");

        Settings(commandTimeout: 2, dataTimeout: 10, minimumDataRate: "16KiB", probeInterval: 0.5, probeIntervalMax: 1);
        Assert.Empty(await run.Runtime.ReloadAsync(CancellationToken.None));
        Assert.Same(lento, run.Runtime.Supervisor.Find(Lento));
        Assert.Equal(due, lento.Retries.NextDue([key]));
        Assert.Equal(1, lento.Retries.Attempts(key));
        // Note: 30 s was the interval before; within 10 s, several probes at the new one.
        await Eventually.WaitAsync(() => Task.FromResult(Probes(run.Journal)), n => n >= probes + 4, TimeSpan.FromSeconds(10), "probes at the new interval");
        Assert.Single(Attempts(run.Journal, copy));
    }

    private static int Probes(global::Respaldo.Journaling.Journal journal) =>
        Convert.ToInt32(LabJournal.Query(journal.Path, $"SELECT COUNT(*) FROM probes WHERE tenant = '{Lento}'")[0][0], CultureInfo.InvariantCulture);

    /// <summary>Until the throttled message's data is on its way (bytes moved beyond the envelope).</summary>
    private static Task WhileSendingAsync(ControllerRun run, string sender)
    {
        _ = sender;
        return Eventually.WaitAsync(() => Task.FromResult(run.Runtime.Supervisor.Find(Lento)!.Current?.Activity.Count ?? 0),
            n => n > 12, TimeSpan.FromSeconds(60), "the big message's data on its way");
    }

    private int Copies(string sender) => _primary.Scan(k => k.Sender == sender).Count;

    private static List<(string Outcome, string Reply, double Ms)> Attempts(global::Respaldo.Journaling.Journal journal, string copy) =>
        LabJournal.Query(journal.Path, $"SELECT outcome, reply, duration_ms FROM handovers WHERE message = '{Path.GetFileName(copy).Replace("'", "''", StringComparison.Ordinal)}' ORDER BY id")
            .Select(r => ((string)r[0]!, (string?)r[1] ?? "", Convert.ToDouble(r[2], System.Globalization.CultureInfo.InvariantCulture))).ToList();

    private string Sender(string what) => $"{what}.{Guid.NewGuid():N}@example.org";

    private RespaldoSettings Settings(double commandTimeout, double dataTimeout, string minimumDataRate,
        double probeInterval = 0.5, double probeIntervalMax = 2, int lentoRate = 0)
    {
        (string host, int port) = lab.PrimarySmtp;
        string path = Path.Combine(_dir, "respaldo.json");
        string Number(double d) => d.ToString(CultureInfo.InvariantCulture);
        File.WriteAllText(path, $$"""
            {
              "hostname": "mail-backup.suempresa.test",
              "stateDirectory": "{{_dir}}/state",
              "storage": { "allocation": "1GB", "minimumFree": "1000" },
              "controller": {
                "probeIntervalSeconds": {{Number(probeInterval)}}, "probeIntervalMaxSeconds": {{Number(probeIntervalMax)}}, "retryMaxSeconds": 600,
                "commandTimeoutSeconds": {{Number(commandTimeout)}}, "dataTimeoutSeconds": {{Number(dataTimeout)}},
                "minimumDataRate": "{{minimumDataRate}}"
              },
              "tenants": [
                {
                  "id": "{{Lento}}", "domains": ["suempresa.test"],
                  "primary": { "hosts": ["{{_proxy.Address}}"], "tls": "none", "connections": 1, "maxMessagesPerSecond": {{lentoRate}} },
                  "mailboxes": [ { "address": "info@suempresa.test" } ]
                },
                {
                  "id": "{{Otro}}", "domains": ["norte.suempresa.test"],
                  "primary": { "hosts": ["{{host}}:{{port}}"], "tls": "none", "connections": 1 },
                  "mailboxes": [ { "address": "juan@norte.suempresa.test" } ]
                }
              ]
            }
            """);
        (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) = ConfigurationLoader.TryLoad(path);
        Assert.True(settings is not null, string.Join("; ", errors));
        return settings;
    }

    /// <summary>A stored copy as Dovecot's LMTP leaves it (trace headers first), of about <paramref name="size"/> bytes.</summary>
    private string Store(RespaldoSettings settings, string domain, string local, string sender, int size)
    {
        string maildir = Path.Combine(settings.MaildirRoot, domain, local);
        foreach (string sub in new[] { "new", "cur", "tmp" })
        {
            Directory.CreateDirectory(Path.Combine(maildir, sub));
        }
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Return-Path: <{sender}>\nDelivered-To: {local}@{domain}\n");
        text.Append("Received: from backup\n\tby mail-backup.suempresa.test with LMTP\n\tid slow\n");
        text.Append(CultureInfo.InvariantCulture, $"From: {sender}\nTo: {local}@{domain}\nSubject: a big one\nMessage-ID: <{Guid.NewGuid():N}@example.org>\n\n");
        int line = 0;
        while (text.Length < size)
        {
            text.Append(CultureInfo.InvariantCulture, $"line {line++,8} of a big message for a slow primary .................................\n");
        }
        byte[] bytes = Encoding.ASCII.GetBytes(text.ToString());
        string name = string.Create(CultureInfo.InvariantCulture, $"{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.M{Interlocked.Increment(ref _serial)}P{Environment.ProcessId}.slow,S={bytes.Length},W={bytes.Length}");
        string path = Path.Combine(maildir, "new", name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>The runtime as the daemon runs it (ControllerService), on its own journal.</summary>
    private sealed class ControllerRun : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private Task _running = Task.CompletedTask;

        private ControllerRun(RespaldoSettings settings, ILoggerFactory? loggers)
        {
            Journal = global::Respaldo.Journaling.Journal.Open(settings.JournalPath, NullLogger.Instance);
            Runtime = new RespaldoRuntime(settings, Journal, loggers ?? NullLoggerFactory.Instance, TimeProvider.System);
        }

        public global::Respaldo.Journaling.Journal Journal { get; }

        public RespaldoRuntime Runtime { get; }

        public static Task<ControllerRun> StartAsync(RespaldoSettings settings, ILoggerFactory? loggers = null)
        {
            var run = new ControllerRun(settings, loggers);
            run._running = Task.Run(() => run.Runtime.RunAsync(run._stop.Token));
            return Task.FromResult(run);
        }

        /// <summary>What the host does on SIGTERM: cancel, then wait for the drain.</summary>
        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            try
            {
                await _running.WaitAsync(TimeSpan.FromSeconds(120));
            }
            catch (OperationCanceledException)
            {
                // Stopped.
            }
        }

        public async ValueTask DisposeAsync()
        {
            await StopAsync();
            Runtime.Dispose();
            await Journal.DisposeAsync();
            _stop.Dispose();
        }
    }
}
