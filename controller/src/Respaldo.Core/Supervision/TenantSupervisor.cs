using Microsoft.Extensions.Logging;
using Respaldo.Configuration;
using Respaldo.HandOver;
using Respaldo.Journaling;
using Respaldo.Mailboxes;
using Respaldo.Primary;

namespace Respaldo.Supervision;

/// <summary>
/// The customer's three steps for one tenant, over and over:
/// (1) while its mailboxes are empty, rest — no probes, no listings, just wait for an arrival;
/// (2) while mail waits, probe the primary — every few seconds, backing off to the ceiling
///     during a long outage (while it refuses connections outright, a free TCP check of its
///     port keeps running every few seconds, so its return is noticed at once);
/// (3) when a probe says "up", hand every due message over.
/// "Hand over now" skips the waits: probe at once and send everything, retry delays ignored.
/// </summary>
public sealed partial class TenantSupervisor : IDisposable
{
    private readonly HandOverContext _context;
    private readonly PrimaryProber _prober;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private int _handOverNow;
    private int _probeRequested;
    private bool _probedOnce;
    private volatile PrimaryAvailability _availability = PrimaryAvailability.Unknown;
    private volatile AdvertisedSize _advertisedSize = AdvertisedSize.NeverProbed;
    private DateTimeOffset _nextProbe = DateTimeOffset.MinValue;
    private DateTimeOffset _nextPortCheck = DateTimeOffset.MinValue;
    private volatile PrimaryState _state = PrimaryState.Unknown;
    private volatile HandOverProgress? _current;
    private volatile HandOverProgress? _last;
    private (HostPort Host, DateTimeOffset At)? _lastWorking;

    public TenantSupervisor(Tenant tenant, HandOverContext context, PrimaryProber prober)
    {
        Tenant = tenant;
        _context = context;
        _prober = prober;
        Heartbeat = new Heartbeat($"tenant {tenant.Id}", context.Time);
        RestoreFrontDoorView();
    }

    public Tenant Tenant { get; }

    /// <summary>
    /// Proof that this tenant's loop goes around (the systemd watchdog reads it). Waits wake
    /// at least every <see cref="Heartbeat"/> interval to beat; a hand-over beats while bytes
    /// move (<see cref="ProgressBeat"/>), so a big message to a slow primary never looks stuck.
    /// </summary>
    public Heartbeat Heartbeat { get; }

    /// <summary>The longest an idle wait lasts before the loop goes around and beats again.</summary>
    public static TimeSpan BeatInterval { get; } = TimeSpan.FromSeconds(5);

    public PrimaryState State => _state;

    /// <summary>The front door's view of the primary (with hysteresis): decides "accept only while the primary is down".</summary>
    public PrimaryAvailability Availability => _availability;

    /// <summary>The SIZE the primary advertised at its last successful probe (the front door never accepts more).</summary>
    public AdvertisedSize AdvertisedSize => _advertisedSize;

    /// <summary>
    /// Asks for a probe soon (the front door saw a sender at the backup while it believes the
    /// primary up: perhaps the sender could not reach it). At most one per fast probe interval.
    /// </summary>
    public void RequestProbe()
    {
        if (_availability.LastProbeAt is { } last && _context.Time.GetUtcNow() - last < _context.Settings.Controller.ProbeInterval)
        {
            return;
        }
        if (Interlocked.Exchange(ref _probeRequested, 1) == 0)
        {
            Wake();
        }
    }

    /// <summary>The run in progress, if any.</summary>
    public HandOverProgress? Current => _current;

    /// <summary>The last finished run, if any.</summary>
    public HandOverProgress? Last => _last;

    /// <summary>The dashboard's and respaldoctl's "hand over now".</summary>
    public void HandOverNow()
    {
        Interlocked.Exchange(ref _handOverNow, 1);
        Wake();
    }

    private void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already awake.
            }
        }
    }

    /// <summary>An out-of-band probe (respaldoctl probe): recorded and reflected in the state like any other.</summary>
    public async Task<IReadOnlyList<ProbeResult>> ProbeNowAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<ProbeResult> results = await ProbeAsync(cancellationToken);
        if (results.Any(r => r.Up) && _context.Index.Totals(Tenant.Id).Count > 0)
        {
            Wake();
        }
        return results;
    }

    /// <summary>
    /// Runs this tenant's loop until cancelled. A failure (an unexpected I/O error, a bug) is
    /// logged and the loop starts again after <see cref="RestartDelay"/>, as Postfix's master(8)
    /// restarts a service process that died, throttled: the other tenants never notice.
    /// </summary>
    public Task RunAsync(CancellationToken cancellationToken) => RunAsync(cancellationToken, cancellationToken);

    /// <summary>
    /// Runs this tenant's loop until <paramref name="stopping"/>: no wait, probe or message starts
    /// after it, but a message in flight goes on to its end and is journaled, unless
    /// <paramref name="abort"/> comes first (and even then not after its final dot).
    /// </summary>
    public async Task RunAsync(CancellationToken stopping, CancellationToken abort)
    {
        try
        {
            while (true)
            {
                try
                {
                    await LoopAsync(stopping, abort);
                    return;
                }
#pragma warning disable CA1031 // Note: not swallowed: logged at error priority, and the loop restarts throttled.
                catch (Exception e) when (!(e is OperationCanceledException && (stopping.IsCancellationRequested || abort.IsCancellationRequested)))
#pragma warning restore CA1031
                {
                    LogLoopFailed(_context.Logger, Tenant.Id, RestartDelay.TotalSeconds, e);
                    Heartbeat.Beat(RestartDelay + IdleAllowance);
                    _current = null;
                    await Task.Delay(RestartDelay, _context.Time, stopping);
                }
            }
        }
        finally
        {
            Heartbeat.Stop();
        }
    }

    /// <summary>How long a failed tenant loop waits before it starts again.</summary>
    public static TimeSpan RestartDelay { get; } = TimeSpan.FromSeconds(15);

    private async Task LoopAsync(CancellationToken cancellationToken, CancellationToken abort)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Heartbeat.Beat(IdleAllowance);
            Task arrival = _context.Index.NextArrival(Tenant.Id);
            bool now = Interlocked.Exchange(ref _handOverNow, 0) == 1;
            DateTimeOffset clock = _context.Time.GetUtcNow();
            IReadOnlyList<WaitingMessage> waiting = _context.Index.Snapshot(Tenant.Id);
            _context.Retries.Retain(waiting.Select(m => m.Key).ToHashSet(StringComparer.Ordinal));

            if (waiting.Count == 0)
            {
                // Step 1: nothing waits. No probe at all until something arrives, except the front
                // door's slow probe for tenants that accept mail only while their primary is down.
                DateTimeOffset? idleProbe = NextIdleProbe();
                if (Interlocked.Exchange(ref _probeRequested, 0) == 1 || (idleProbe is { } probeAt && clock >= probeAt))
                {
                    await ProbeAsync(cancellationToken);
                    continue;
                }
                await WaitAsync(arrival, idleProbe, cancellationToken);
                continue;
            }
            List<WaitingMessage> due = now ? [.. waiting] : waiting.Where(m => _context.Retries.IsDue(m.Key, clock)).ToList();
            if (due.Count == 0)
            {
                await WaitAsync(arrival, _context.Retries.NextDue(waiting.Select(m => m.Key)), cancellationToken);
                continue;
            }
            if (!now && _state.Status == PrimaryStatus.Down && clock < _nextProbe)
            {
                // Step 2 while down: the next probe is scheduled; new mail does not hurry it. But
                // while the primary refused even the TCP connection, watch its port every fast
                // interval: the probe follows as soon as it opens (the back-off limits SMTP
                // sessions, not this free check; the primary's return is noticed within seconds).
                if (_state.LastProbe?.Stage == Smtp.SmtpStage.Connect)
                {
                    // Note: the loop also wakes every BeatInterval (watchdog) and for "hand over
                    // now"; the port is checked only when its own time has come.
                    await WaitAsync(null, _nextPortCheck < _nextProbe ? _nextPortCheck : _nextProbe, cancellationToken);
                    DateTimeOffset woke = _context.Time.GetUtcNow();
                    if (woke >= _nextPortCheck && woke < _nextProbe)
                    {
                        _nextPortCheck = woke + _context.Settings.Controller.ProbeInterval;
                        if (await AnyHostAcceptsAsync(cancellationToken))
                        {
                            _nextProbe = _context.Time.GetUtcNow();
                        }
                    }
                    continue;
                }
                await WaitAsync(null, _nextProbe, cancellationToken);
                continue;
            }

            HostPort? host = now ? null : RecentlyWorkingHost(clock);
            if (host is null)
            {
                IReadOnlyList<ProbeResult> probes = await ProbeAsync(cancellationToken);
                ProbeResult? up = probes.FirstOrDefault(p => p.Up);
                if (up is null)
                {
                    _nextPortCheck = _context.Time.GetUtcNow() + _context.Settings.Controller.ProbeInterval;
                    _nextProbe = _context.Time.GetUtcNow() + ProbeSchedule.Next(_state.ConsecutiveFailures,
                        _context.Settings.Controller.ProbeInterval, _context.Settings.Controller.ProbeIntervalMax);
                    continue;
                }
                host = up.Host;
            }

            // Step 3.
            var run = new HandOverRun(Tenant, host, due, _context);
            _current = run.Progress;
            HandOverProgress progress = await BeatWhileAsync(run.ExecuteAsync(cancellationToken, abort), run.Progress);
            _current = null;
            _last = progress;
            if (progress.PrimaryLost)
            {
                _lastWorking = null;
                MarkLost(host.ToString(), progress.StopReason ?? "the hand-over lost the primary");
            }
            else if (progress.Delivered > 0)
            {
                _lastWorking = (host, _context.Time.GetUtcNow());
            }
        }
    }

    // Note: a wait beats every BeatInterval; the margin covers a busy thread pool, not a hang.
    private static readonly TimeSpan IdleAllowance = BeatInterval + TimeSpan.FromSeconds(25);

    /// <summary>One SMTP conversation: each of its steps is bounded by commandTimeoutSeconds.</summary>
    private TimeSpan ProbeAllowance =>
        (_context.Settings.Controller.CommandTimeout * 6 * Math.Max(1, Tenant.Primary.Hosts.Count)) + IdleAllowance;

    /// <summary>The longest a hand-over may go without a byte moving (<see cref="ProgressBeat.AllowanceFor"/>); not a message's length, which has its own deadline.</summary>
    private TimeSpan HandOverAllowance => ProgressBeat.AllowanceFor(_context.Settings.Controller.CommandTimeout, _context.Settings.Controller.DataTimeout,
        Tenant.Primary.Connections, Tenant.Primary.MaxMessagesPerSecond, IdleAllowance);

    /// <summary>
    /// Beats while a hand-over runs, each time bytes moved or a message was settled since the
    /// last look: a slow message that progresses keeps the watchdog fed; one whose primary takes
    /// nothing ends by its timeouts or its deadline long before the allowance runs out.
    /// </summary>
    private async Task<HandOverProgress> BeatWhileAsync(Task<HandOverProgress> running, HandOverProgress progress)
    {
        var beat = new ProgressBeat(Heartbeat, HandOverAllowance);
        while (!running.IsCompleted)
        {
            beat.Observe(progress.Activity.Count + progress.Done);
            await Task.WhenAny(running, Task.Delay(BeatInterval, _context.Time));
        }
        return await running;
    }

    /// <summary>
    /// The host that took mail moments ago, if any: while mail keeps arriving and the primary
    /// keeps taking it, a hand-over that just succeeded is a better probe than a probe, and
    /// the primary is spared one SMTP session per arrival.
    /// </summary>
    private HostPort? RecentlyWorkingHost(DateTimeOffset now) =>
        _state.Status == PrimaryStatus.Up && _lastWorking is { } w && now - w.At < _context.Settings.Controller.ProbeInterval ? w.Host : null;

    private async Task<bool> AnyHostAcceptsAsync(CancellationToken cancellationToken)
    {
        TimeSpan timeout = TimeSpan.FromSeconds(Math.Min(5, _context.Settings.Controller.CommandTimeout.TotalSeconds));
        foreach (HostPort host in Tenant.Primary.Hosts)
        {
            if (await Smtp.SmtpConnection.AcceptsConnectionsAsync(host, timeout, cancellationToken))
            {
                return true;
            }
        }
        return false;
    }

    private async Task<IReadOnlyList<ProbeResult>> ProbeAsync(CancellationToken cancellationToken)
    {
        Heartbeat.Beat(ProbeAllowance);
        IReadOnlyList<ProbeResult> results = await _prober.ProbeAsync(Tenant, cancellationToken);
        _probedOnce = true;
        foreach (ProbeResult r in results)
        {
            PrimaryState before = _state;
            _state = before.After(r);
            if (r.Up)
            {
                _advertisedSize = new AdvertisedSize(true, r.Capabilities.MaxSize);
            }
            _ = _context.Journal.RecordProbeAsync(new ProbeRecord(r.At, Tenant.Id, r.Host.ToString(), r.Up, r.Stage.ToString(),
                r.Reply?.Code, r.Reply?.OneLine ?? r.Reason, r.Latency.TotalMilliseconds, r.Tls, r.Capabilities.MaxSize));
            LogProbe(_context.Logger, Tenant.Id, r.Host.ToString(), r.Up ? "up" : "down", r.Latency.TotalMilliseconds, r.Reason);
            if (r.Up && before.Status != PrimaryStatus.Up)
            {
                _context.Events.Raise(new PrimaryCameUp(Tenant.Id, r.At, r.Host.ToString(), before.Status == PrimaryStatus.Down ? before.Since : null));
            }
            else if (!r.Up && before.Status != PrimaryStatus.Down)
            {
                // Note: from Unknown too: the first probe after a start (or after mail arrived
                // while nothing was known) that finds the primary down is the outage's start.
                _context.Events.Raise(new PrimaryWentDown(Tenant.Id, r.At, r.Host.ToString(), r.Reason));
            }
        }
        // Note: a tenant with several primary hosts is up when any of them answers (MX preference order).
        ProbeResult last = results.FirstOrDefault(p => p.Up) ?? results[^1];
        UpdateAvailability(last.Up, last.At);
        return results;
    }

    private DateTimeOffset? NextIdleProbe()
    {
        if (!Tenant.AcceptOnlyWhilePrimaryDown)
        {
            // Note: one probe at start when the primary's SIZE was never learned (the front door
            // never accepts more than the primary advertised); later ones come with waiting mail.
            return _advertisedSize.Known || _probedOnce ? null : DateTimeOffset.MinValue;
        }
        ControllerSettings pace = _context.Settings.Controller;
        return _availability.NextIdleProbe(pace.ProbeInterval, pace.IdleProbeInterval, pace.UpAfter);
    }

    private void UpdateAvailability(bool up, DateTimeOffset at)
    {
        ControllerSettings pace = _context.Settings.Controller;
        PrimaryAvailability before = _availability;
        PrimaryAvailability after = before.After(up, at, pace.DownAfterFailures, pace.UpAfter);
        _availability = after;
        if (after.Verdict != before.Verdict)
        {
            LogFrontDoor(_context.Logger, Tenant.Id, after.Verdict.ToString().ToLowerInvariant(),
                after.Verdict == PrimaryStatus.Down ? "the backup accepts mail" : "the backup defers mail to the primary");
        }
    }

    /// <summary>After a restart or reload: the front door's view from the journal's recent probes, if recent enough to trust.</summary>
    private void RestoreFrontDoorView()
    {
        ControllerSettings pace = _context.Settings.Controller;
        List<(DateTimeOffset At, bool Up, long? MaxSize)> recent = _context.Journal.RecentProbes(Tenant.Id, 50);
        (bool known, long? size) = _context.Journal.LastAdvertisedSize(Tenant.Id);
        _advertisedSize = known ? new AdvertisedSize(true, size) : AdvertisedSize.NeverProbed;
        TimeSpan trust = (3 * pace.IdleProbeInterval) + pace.UpAfter;
        if (recent.Count > 0 && _context.Time.GetUtcNow() - recent[0].At <= trust)
        {
            _availability = PrimaryAvailability.Replay(recent.AsEnumerable().Reverse().Select(p => (p.At, p.Up)), pace.DownAfterFailures, pace.UpAfter);
        }
    }

    private void MarkLost(string host, string reason)
    {
        DateTimeOffset at = _context.Time.GetUtcNow();
        PrimaryState before = _state;
        _state = before.Lost(at);
        _nextProbe = at + _context.Settings.Controller.ProbeInterval;
        UpdateAvailability(false, at);
        if (before.Status == PrimaryStatus.Up)
        {
            _context.Events.Raise(new PrimaryWentDown(Tenant.Id, at, host, reason));
        }
    }

    private async Task WaitAsync(Task? arrival, DateTimeOffset? until, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // Note: waking every BeatInterval is harmless (the loop re-reads the index and waits
        // again) and proves to the watchdog that the loop still goes around.
        var tasks = new List<Task> { _wake.WaitAsync(cts.Token), Task.Delay(BeatInterval, _context.Time, cts.Token) };
        if (arrival is not null)
        {
            tasks.Add(arrival);
        }
        if (until is { } u)
        {
            TimeSpan delay = u - _context.Time.GetUtcNow();
            tasks.Add(Task.Delay(delay > TimeSpan.Zero ? delay : TimeSpan.Zero, _context.Time, cts.Token));
        }
        try
        {
            await Task.WhenAny(tasks);
        }
        finally
        {
            await cts.CancelAsync();
            // Note: a wake-up consumed by a cancelled WaitAsync is not lost: a cancelled
            // SemaphoreSlim wait never takes the count.
        }
    }

    public void Dispose() => _wake.Dispose();

    [LoggerMessage(EventId = 1006, Level = LogLevel.Error, Message = "tenant {Tenant}: the loop failed; it starts again in {Seconds:0} s (other tenants go on)")]
    private static partial void LogLoopFailed(ILogger logger, string tenant, double seconds, Exception exception);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Information, Message = "tenant {Tenant}: the front door now considers the primary {Verdict}: {Meaning}")]
    private static partial void LogFrontDoor(ILogger logger, string tenant, string verdict, string meaning);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "tenant {Tenant}: probe of {Host}: {Outcome} in {LatencyMs:0} ms: {Reason}")]
    private static partial void LogProbe(ILogger logger, string tenant, string host, string outcome, double latencyMs, string reason);
}
