using Microsoft.Extensions.Logging;
using Respaldo.Configuration;
using Respaldo.HandOver;
using Respaldo.Journaling;
using Respaldo.Mailboxes;
using Respaldo.Primary;
using Respaldo.Events;
using Respaldo.Health;

namespace Respaldo.Supervision;

/// <summary>
/// The customer's three steps for one tenant, over and over:
/// (1) while its mailboxes are empty, rest — no probes, no listings, just wait for an arrival;
/// (2) while mail waits, probe the primary — every few seconds, backing off to the ceiling
///     during a long outage (while it refuses connections outright, a free TCP check of its
///     port keeps running every few seconds, so its return is noticed at once);
/// (3) when a probe says "up", hand every due message over.
/// "Hand over now" skips the waits: probe at once and send everything, retry delays ignored.
/// Each turn, the loop takes a <see cref="TenantSnapshot"/>, asks the pure
/// <see cref="TenantSteps.Next"/> what to do, and does it; what it knows of the primary lives
/// in a <see cref="PrimaryTracker"/>.
/// </summary>
public sealed partial class TenantSupervisor : IDisposable
{
    private volatile HandOverContext _context;
    private volatile PrimaryProber _prober;
    private volatile Tenant _tenant;
    private readonly PrimaryTracker _primary;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private int _handOverNow;
    private int _probeRequested;
    private volatile HandOverProgress? _current;
    private volatile HandOverProgress? _last;

    public TenantSupervisor(Tenant tenant, HandOverContext context, PrimaryProber prober)
    {
        _tenant = tenant;
        _context = context;
        _prober = prober;
        Heartbeat = new Heartbeat($"tenant {tenant.Id}", context.Time);
        _primary = new PrimaryTracker(context.Settings.Controller);
        RestoreFrontDoorView();
    }

    /// <summary>The tenant's settings in use (a reload replaces them between two turns of the loop).</summary>
    public Tenant Tenant => _tenant;

    /// <summary>This tenant's retry times; kept across reloads.</summary>
    public RetrySchedule Retries => _context.Retries;

    /// <summary>
    /// A reload: the tenant's new settings and the controller's new context (with this tenant's
    /// own <see cref="Retries"/>) apply from the loop's next turn; what it knows of the primary and
    /// every retry time stay. A hand-over in flight finishes with the settings it started with.
    /// </summary>
    public void Apply(Tenant tenant, HandOverContext context, PrimaryProber prober)
    {
        if (tenant.Id != _tenant.Id || !ReferenceEquals(context.Retries, _context.Retries))
        {
            throw new ArgumentException($"tenant {_tenant.Id}: a reload keeps the tenant's id and its retry schedule", nameof(tenant));
        }
        _tenant = tenant;
        _prober = prober;
        _context = context;
        _primary.Use(context.Settings.Controller, context.Time.GetUtcNow());
        context.Retries.Ceiling = context.Settings.Controller.RetryMax;
        Wake();
    }

    /// <summary>
    /// Proof that this tenant's loop goes around (the systemd watchdog reads it). A wait beats
    /// for its whole length (at most <see cref="Heartbeat.RestInterval"/>); a hand-over beats while bytes
    /// move (<see cref="ProgressBeat"/>), so a big message to a slow primary never looks stuck.
    /// </summary>
    public Heartbeat Heartbeat { get; }

    /// <summary>How often a hand-over's progress is looked at for the watchdog.</summary>
    private static TimeSpan BeatInterval => Heartbeat.LoopInterval;

    /// <summary>The longest a wait lasts when nothing is due before the loop goes around and beats again.</summary>
    private static TimeSpan RestInterval => Heartbeat.RestInterval;

    public PrimaryState State => _primary.View.State;

    /// <summary>The front door's view of the primary (with hysteresis): decides "accept only while the primary is down".</summary>
    public PrimaryAvailability Availability => _primary.View.Availability;

    /// <summary>The SIZE the primary advertised at its last successful probe (the front door never accepts more).</summary>
    public AdvertisedSize AdvertisedSize => _primary.View.Size;

    /// <summary>
    /// Asks for a probe soon (the front door saw a sender at the backup while it believes the
    /// primary up: perhaps the sender could not reach it). At most one per fast probe interval.
    /// </summary>
    public void RequestProbe()
    {
        if (Availability.LastProbeAt is { } last && _context.Time.GetUtcNow() - last < _context.Settings.Controller.ProbeInterval)
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

    /// <summary>
    /// An out-of-band probe (respaldoctl probe): recorded and reflected in the state like any
    /// other. Note: it runs beside the loop; the tracker takes both results under one lock, so
    /// neither overwrites the other.
    /// </summary>
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
            (int waiting, int due, DateTimeOffset? nextRetry) = Look(_context.Index, _context.Retries, Tenant.Id, clock, now);
            ControllerSettings pace = _context.Settings.Controller;
            PrimaryView primary = _primary.View;
            var snapshot = new TenantSnapshot(clock, waiting, due, nextRetry,
                now, Volatile.Read(ref _probeRequested) == 1, PrimaryTracker.NextIdleProbe(primary, Tenant.AcceptOnlyWhilePrimaryDown, pace), primary);
            TenantStep step = TenantSteps.Next(snapshot, pace.ProbeInterval);
            switch (step.Kind)
            {
                case StepKind.Rest:
                case StepKind.WaitRetry:
                    await WaitAsync(arrival, step.Until, cancellationToken);
                    break;
                case StepKind.WaitProbe:
                    // Note: new mail does not hurry the probe; "hand over now" and a reload wake the loop.
                    await WaitAsync(null, step.Until, cancellationToken);
                    break;
                case StepKind.CheckPort:
                    bool accepted = await AnyHostAcceptsAsync(cancellationToken);
                    _primary.PortChecked(_context.Time.GetUtcNow(), accepted);
                    break;
                case StepKind.Probe:
                    Interlocked.Exchange(ref _probeRequested, 0);
                    await ProbeAsync(cancellationToken);
                    break;
                case StepKind.ProbeThenHandOver:
                    IReadOnlyList<ProbeResult> probes = await ProbeAsync(cancellationToken);
                    if (probes.FirstOrDefault(p => p.Up) is { } up)
                    {
                        await HandOverAsync(up.Host, Due(clock, now), cancellationToken, abort);
                    }
                    else
                    {
                        _primary.Deferred(_context.Time.GetUtcNow());
                    }
                    break;
                case StepKind.HandOver:
                    await HandOverAsync(step.Host!, Due(clock, now), cancellationToken, abort);
                    break;
            }
        }
    }

    /// <summary>
    /// What one turn knows of the tenant's mail: how many wait, how many are due, and (none due)
    /// when the first deferred one is. Note: lookups only: the index's count, and one lookup per
    /// deferred message (to forget those gone); never a walk over, nor a sort of, the backlog,
    /// since the loop turns at every arrival and every few seconds.
    /// </summary>
    internal static (int Waiting, int Due, DateTimeOffset? NextRetry) Look(MailboxIndex index, RetrySchedule retries, string tenantId, DateTimeOffset clock, bool now)
    {
        retries.Retain(key => index.Contains(tenantId, key));
        int waiting = index.Totals(tenantId).Count;
        (int notDue, DateTimeOffset? next) = retries.Deferrals(clock);
        int due = now ? waiting : Math.Max(0, waiting - notDue);
        return (waiting, due, due == 0 && waiting > 0 ? next : null);
    }

    /// <summary>The due messages, oldest first, for a hand-over (all of them for "hand over now"): one ordered pass, made only when a run starts.</summary>
    private IReadOnlyList<WaitingMessage> Due(DateTimeOffset clock, bool now)
    {
        RetrySchedule retries = _context.Retries;
        return _context.Index.OldestFirst(Tenant.Id, now || !retries.Any ? null : key => retries.IsDue(key, clock));
    }

    /// <summary>Step 3: hands the due messages over to <paramref name="host"/>, and learns from how it went.</summary>
    private async Task HandOverAsync(HostPort host, IReadOnlyList<WaitingMessage> due, CancellationToken cancellationToken, CancellationToken abort)
    {
        var run = new HandOverRun(Tenant, host, due, _context);
        _current = run.Progress;
        HandOverProgress progress = await BeatWhileAsync(run.ExecuteAsync(cancellationToken, abort), run.Progress);
        _current = null;
        _last = progress;
        if (progress.PrimaryLost)
        {
            Report(_primary.Lost(host.ToString(), progress.StopReason ?? "the hand-over lost the primary", _context.Time.GetUtcNow()));
        }
        else if (progress.Delivered > 0)
        {
            _primary.TookMail(host, _context.Time.GetUtcNow());
        }
    }

    // Note: a wait beats for its whole length, a hand-over every BeatInterval; the margin covers a busy thread pool, not a hang.
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

    private async Task<bool> AnyHostAcceptsAsync(CancellationToken cancellationToken)
    {
        TimeSpan timeout = TimeSpan.FromSeconds(Math.Min(5, _context.Settings.Controller.CommandTimeout.TotalSeconds));
        // Note: shared with the node's other tenants of the same host and port, fresh for half
        // the fast interval: a lone tenant never reuses its own check (its next one is a whole
        // interval later), 1,000 sharing one primary make one connect where they made 1,000.
        TimeSpan fresh = _context.Settings.Controller.ProbeInterval / 2;
        foreach (HostPort host in Tenant.Primary.Hosts)
        {
            bool accepts = _context.PortChecks is { } shared
                ? await shared.AcceptsAsync(host, fresh, timeout, cancellationToken)
                : await Smtp.SmtpConnection.AcceptsConnectionsAsync(host, timeout, cancellationToken);
            if (accepts)
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
        foreach (ProbeResult r in results)
        {
            _ = _context.Journal.RecordProbeAsync(new ProbeRecord(r.At, Tenant.Id, r.Host.ToString(), r.Up, r.Stage.ToString(),
                r.Reply?.Code, r.Reply?.OneLine ?? r.Reason, r.Latency.TotalMilliseconds, r.Tls, r.Capabilities.MaxSize));
            LogProbe(_context.Logger, Tenant.Id, r.Host.ToString(), r.Up ? "up" : "down", r.Latency.TotalMilliseconds, r.Reason);
        }
        Report(_primary.Observe(results));
        return results;
    }

    /// <summary>Raises and logs what a probe or a lost hand-over changed.</summary>
    private void Report(IReadOnlyList<PrimaryChange> changes)
    {
        foreach (PrimaryChange change in changes)
        {
            switch (change)
            {
                case PrimaryUp up:
                    _context.Events.Raise(new PrimaryCameUp(Tenant.Id, up.Probe.At, up.Probe.Host.ToString(), up.DownSince));
                    break;
                case PrimaryDown down:
                    _context.Events.Raise(new PrimaryWentDown(Tenant.Id, down.At, down.Host, down.Reason));
                    break;
                case FrontDoorVerdict verdict:
                    LogFrontDoor(_context.Logger, Tenant.Id, verdict.Verdict.ToString().ToLowerInvariant(),
                        verdict.Verdict == PrimaryStatus.Down ? "the backup accepts mail" : "the backup defers mail to the primary");
                    break;
            }
        }
    }

    /// <summary>After a restart or reload: the front door's view from the journal's recent probes, if recent enough to trust.</summary>
    private void RestoreFrontDoorView()
    {
        List<(DateTimeOffset At, bool Up, long? MaxSize)> recent = _context.Journal.RecentProbes(Tenant.Id, 50);
        (bool known, long? size) = _context.Journal.LastAdvertisedSize(Tenant.Id);
        _primary.Restore(recent.Select(p => (p.At, p.Up)).ToList(), known ? new AdvertisedSize(true, size) : AdvertisedSize.NeverProbed,
            _context.Time.GetUtcNow());
    }

    private async Task WaitAsync(Task? arrival, DateTimeOffset? until, CancellationToken cancellationToken)
    {
        // Note: the loop sleeps until its step's time (at most RestInterval) and beats for the
        // whole wait: nothing is due before then, and what could change that wakes it at once
        // (an arrival, "hand over now", a probe asked for, a reload). Going around every
        // BeatInterval instead cost 1,000 idle tenants 200 wakes a second (issue 14).
        TimeSpan wait = TenantSteps.WaitFor(_context.Time.GetUtcNow(), until, RestInterval);
        Heartbeat.Beat(wait + IdleAllowance);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task woken = _wake.WaitAsync(cts.Token);
        Task timeout = Task.Delay(wait, _context.Time, cts.Token);
        try
        {
            await (arrival is null ? Task.WhenAny(woken, timeout) : Task.WhenAny(woken, timeout, arrival));
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
