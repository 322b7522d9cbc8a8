using Respaldo.Configuration;
using Respaldo.Smtp;

namespace Respaldo.Primary;

/// <summary>
/// Everything the controller knows about one tenant's primary at one instant: the state that
/// follows every probe, the front door's view with hysteresis, the SIZE it last advertised,
/// when to probe and check its port next, and the host that took mail moments ago.
/// Immutable: a reader (the front door, the dashboard, D-Bus) always sees one consistent view.
/// </summary>
public sealed record PrimaryView(
    PrimaryState State,
    PrimaryAvailability Availability,
    AdvertisedSize Size,
    bool ProbedOnce,
    DateTimeOffset NextProbe,
    DateTimeOffset NextPortCheck,
    HostPort? WorkingHost,
    DateTimeOffset WorkingAt)
{
    public static PrimaryView Unknown { get; } = new(PrimaryState.Unknown, PrimaryAvailability.Unknown, AdvertisedSize.NeverProbed,
        false, DateTimeOffset.MinValue, DateTimeOffset.MinValue, null, DateTimeOffset.MinValue);

    /// <summary>The last probe failed at the TCP connection (so a free port check can notice the primary's return).</summary>
    public bool RefusedConnections => State.LastProbe?.Stage == SmtpStage.Connect;
}

/// <summary>What a probe or a lost hand-over changed, for the caller to raise, log and journal.</summary>
public abstract record PrimaryChange;

/// <summary>The primary answered after being down or unknown; <c>DownSince</c> when it had been down.</summary>
public sealed record PrimaryUp(ProbeResult Probe, DateTimeOffset? DownSince) : PrimaryChange;

/// <summary>The primary stopped answering (a probe failed, or a hand-over lost it).</summary>
public sealed record PrimaryDown(DateTimeOffset At, string Host, string Reason) : PrimaryChange;

/// <summary>The front door's verdict flipped (after its hysteresis).</summary>
public sealed record FrontDoorVerdict(PrimaryStatus Verdict) : PrimaryChange;

/// <summary>
/// One tenant's primary as the controller sees it: probe results, the front door's hysteresis,
/// the advertised SIZE and the probe schedule. Every change goes through one lock, so a probe
/// asked for over D-Bus and the tenant's own loop never overwrite each other's results; reads
/// take the current <see cref="PrimaryView"/> without locking. Pure: no I/O, no clock of its
/// own (every method is told the time), so it is unit-tested alone.
/// </summary>
public sealed class PrimaryTracker
{
    private readonly Lock _gate = new();
    private volatile PrimaryView _view = PrimaryView.Unknown;
    private volatile ControllerSettings _pace;

    public PrimaryTracker(ControllerSettings pace) => _pace = pace;

    /// <summary>The current view (one consistent snapshot).</summary>
    public PrimaryView View => _view;

    /// <summary>The controller settings the schedule and the hysteresis follow.</summary>
    public ControllerSettings Pace => _pace;

    /// <summary>
    /// A reload's new settings, from <paramref name="now"/> on. Everything learnt stays; a shorter
    /// probe interval or ceiling brings the next probe and port check forward to what it would
    /// give now (a longer one applies from the next deferral: nothing is put off).
    /// </summary>
    public void Use(ControllerSettings pace, DateTimeOffset now)
    {
        lock (_gate)
        {
            ControllerSettings old = _pace;
            _pace = pace;
            if (old.ProbeInterval == pace.ProbeInterval && old.ProbeIntervalMax == pace.ProbeIntervalMax)
            {
                return;
            }
            PrimaryView view = _view;
            DateTimeOffset probe = now + ProbeSchedule.Next(view.State.ConsecutiveFailures, pace.ProbeInterval, pace.ProbeIntervalMax);
            DateTimeOffset port = now + pace.ProbeInterval;
            _view = view with
            {
                NextProbe = probe < view.NextProbe ? probe : view.NextProbe,
                NextPortCheck = port < view.NextPortCheck ? port : view.NextPortCheck,
            };
        }
    }

    /// <summary>
    /// After a restart or reload: the front door's view from recent probes (newest first), if
    /// recent enough to trust, and the SIZE last advertised.
    /// </summary>
    public void Restore(IReadOnlyList<(DateTimeOffset At, bool Up)> recentNewestFirst, AdvertisedSize size, DateTimeOffset now)
    {
        ControllerSettings pace = _pace;
        TimeSpan trust = (3 * pace.IdleProbeInterval) + pace.UpAfter;
        lock (_gate)
        {
            PrimaryView view = _view with { Size = size };
            if (recentNewestFirst.Count > 0 && now - recentNewestFirst[0].At <= trust)
            {
                view = view with { Availability = PrimaryAvailability.Replay(recentNewestFirst.Reverse(), pace.DownAfterFailures, pace.UpAfter) };
            }
            _view = view;
        }
    }

    /// <summary>
    /// Takes one probe's results (one per primary host, in MX order). A tenant with several hosts
    /// is up when any of them answers; the front door's view follows the first that answered, or the last.
    /// </summary>
    public IReadOnlyList<PrimaryChange> Observe(IReadOnlyList<ProbeResult> results)
    {
        ArgumentOutOfRangeException.ThrowIfZero(results.Count);
        ControllerSettings pace = _pace;
        var changes = new List<PrimaryChange>();
        lock (_gate)
        {
            PrimaryView view = _view with { ProbedOnce = true };
            foreach (ProbeResult r in results)
            {
                PrimaryState before = view.State;
                view = view with { State = before.After(r) };
                if (r.Up)
                {
                    view = view with { Size = new AdvertisedSize(true, r.Capabilities.MaxSize) };
                }
                if (r.Up && before.Status != PrimaryStatus.Up)
                {
                    changes.Add(new PrimaryUp(r, before.Status == PrimaryStatus.Down ? before.Since : null));
                }
                else if (!r.Up && before.Status != PrimaryStatus.Down)
                {
                    // Note: from Unknown too: the first probe after a start (or after mail arrived
                    // while nothing was known) that finds the primary down is the outage's start.
                    changes.Add(new PrimaryDown(r.At, r.Host.ToString(), r.Reason));
                }
            }
            ProbeResult last = results.FirstOrDefault(p => p.Up) ?? results[^1];
            view = WithAvailability(view, last.Up, last.At, pace, changes);
            _view = view;
        }
        return changes;
    }

    /// <summary>A probe while mail waits found no host up: the next probe backs off, the port check stays fast.</summary>
    public void Deferred(DateTimeOffset now)
    {
        ControllerSettings pace = _pace;
        lock (_gate)
        {
            _view = _view with
            {
                NextPortCheck = now + pace.ProbeInterval,
                NextProbe = now + ProbeSchedule.Next(_view.State.ConsecutiveFailures, pace.ProbeInterval, pace.ProbeIntervalMax),
            };
        }
    }

    /// <summary>The port was checked at <paramref name="now"/>: if it took a connection, the probe is due at once.</summary>
    public void PortChecked(DateTimeOffset now, bool accepted)
    {
        ControllerSettings pace = _pace;
        lock (_gate)
        {
            _view = _view with
            {
                NextPortCheck = now + pace.ProbeInterval,
                NextProbe = accepted ? now : _view.NextProbe,
            };
        }
    }

    /// <summary>A hand-over to <paramref name="host"/> delivered mail: it is the best probe for a while.</summary>
    public void TookMail(HostPort host, DateTimeOffset at)
    {
        lock (_gate)
        {
            _view = _view with { WorkingHost = host, WorkingAt = at };
        }
    }

    /// <summary>A hand-over lost the primary mid-way (refused connections, 421): down from now, next probe after the fast interval.</summary>
    public IReadOnlyList<PrimaryChange> Lost(string host, string reason, DateTimeOffset at)
    {
        ControllerSettings pace = _pace;
        var changes = new List<PrimaryChange>();
        lock (_gate)
        {
            PrimaryState before = _view.State;
            PrimaryView view = _view with { State = before.Lost(at), NextProbe = at + pace.ProbeInterval, WorkingHost = null };
            if (before.Status == PrimaryStatus.Up)
            {
                changes.Add(new PrimaryDown(at, host, reason));
            }
            _view = WithAvailability(view, false, at, pace, changes);
        }
        return changes;
    }

    /// <summary>
    /// The host that took mail moments ago, if any: while mail keeps arriving and the primary
    /// keeps taking it, a hand-over that just succeeded is a better probe than a probe, and
    /// the primary is spared one SMTP session per arrival.
    /// </summary>
    public static HostPort? RecentlyWorking(PrimaryView view, DateTimeOffset now, TimeSpan probeInterval) =>
        view.State.Status == PrimaryStatus.Up && view.WorkingHost is { } host && now - view.WorkingAt < probeInterval ? host : null;

    /// <summary>
    /// When to probe while no mail waits: for a tenant that takes mail only while its primary is
    /// down, the front door's own schedule; otherwise once at start when the SIZE was never
    /// learned (the front door never accepts more than the primary advertised), then never.
    /// </summary>
    public static DateTimeOffset? NextIdleProbe(PrimaryView view, bool acceptOnlyWhilePrimaryDown, ControllerSettings pace)
    {
        if (!acceptOnlyWhilePrimaryDown)
        {
            return view.Size.Known || view.ProbedOnce ? null : DateTimeOffset.MinValue;
        }
        return view.Availability.NextIdleProbe(pace.ProbeInterval, pace.IdleProbeInterval, pace.UpAfter);
    }

    private static PrimaryView WithAvailability(PrimaryView view, bool up, DateTimeOffset at, ControllerSettings pace, List<PrimaryChange> changes)
    {
        PrimaryAvailability after = view.Availability.After(up, at, pace.DownAfterFailures, pace.UpAfter);
        if (after.Verdict != view.Availability.Verdict)
        {
            changes.Add(new FrontDoorVerdict(after.Verdict));
        }
        return view with { Availability = after };
    }
}
