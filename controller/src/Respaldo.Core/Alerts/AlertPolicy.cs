using Respaldo.HandOver;
using Respaldo.Supervision;
using Respaldo.Events;

namespace Respaldo.Alerts;

/// <summary>
/// Decides which controller events become alerts, and when: rate-limited, the first at once
/// and the rest in digests, as listed below (docs/ARCHITECTURE.md, "The rooms").
/// Pure logic, one instance for the daemon's lifetime; callers feed it events, storage samples
/// and clock ticks from one thread and send what it returns.
///
/// - Mail arriving: the first message of an outage is told at once; everything after it waits
///   for a digest, at most one per the tenant's interval, with counts per mailbox. After the
///   primary came back, the next arrival starts a new outage and is told at once again.
/// - Primary down: once per outage. Primary back: after the hand-over that follows, with how
///   many messages went and how long it took (or after two minutes if no hand-over comes).
/// - Held message: the first at once, later ones in a digest on the same interval.
/// - Storage: on crossing 80 % and 95 % upwards; re-armed below 75 %.
/// - Set-up check: a failing check not told before is told at once (with every check failing
///   then); while any stays failing, again once a day (<see cref="SetupRepeat"/>).
/// - Fire drill: the first failed drill is told at once; while drills keep failing, again once a
///   day; a passed drill ends it, and the next failure is told at once again.
/// </summary>
public sealed class AlertPolicy(Func<string, TimeSpan> digestInterval)
{
    /// <summary>How long "primary back" waits for a hand-over to report before it is sent without one.</summary>
    public static readonly TimeSpan BackWithoutHandOver = TimeSpan.FromMinutes(2);

    /// <summary>How often a set-up fault that stays failing is told again.</summary>
    public static readonly TimeSpan SetupRepeat = TimeSpan.FromDays(1);

    private readonly Dictionary<string, TenantState> _tenants = new(StringComparer.Ordinal);
    private long _sequence;

    private sealed class TenantState
    {
        public DateTimeOffset? LastArrivalAlert { get; set; }
        public bool OutageEnded { get; set; }
        public SortedDictionary<string, (int Count, long Bytes)> PendingArrivals { get; } = new(StringComparer.Ordinal);
        public bool DownAlerted { get; set; }
        public DateTimeOffset? CameUpAt { get; set; }
        public DateTimeOffset? DownSince { get; set; }
        public DateTimeOffset? LastHeldAlert { get; set; }
        public List<HeldMessage> PendingHeld { get; } = [];
        public int StorageLevel { get; set; }
        public HashSet<string> SetupTold { get; } = new(StringComparer.Ordinal);
        public DateTimeOffset? LastSetupAlert { get; set; }
        public DateTimeOffset? LastDrillAlert { get; set; }
    }

    private TenantState State(string tenantId)
    {
        if (!_tenants.TryGetValue(tenantId, out TenantState? state))
        {
            state = new TenantState();
            _tenants[tenantId] = state;
        }
        return state;
    }

    private Alert New(string tenantId, AlertKind kind, DateTimeOffset at) =>
        new($"{tenantId}-{kind.WireName()}-{at.ToUnixTimeMilliseconds()}-{Interlocked.Increment(ref _sequence)}", tenantId, kind, at);

    public IReadOnlyList<Alert> Observe(ControllerEvent e)
    {
        TenantState s = State(e.TenantId);
        switch (e)
        {
            case MessageArrived arrived:
                {
                    TimeSpan interval = digestInterval(e.TenantId);
                    bool fresh = s.LastArrivalAlert is null || s.OutageEnded || e.At - s.LastArrivalAlert >= interval;
                    if (fresh && s.PendingArrivals.Count == 0)
                    {
                        s.LastArrivalAlert = e.At;
                        s.OutageEnded = false;
                        return [New(e.TenantId, AlertKind.FirstArrival, e.At) with
                        {
                            Mailboxes = [new MailboxCount(arrived.Message.Mailbox, 1, arrived.Message.Size)],
                        }];
                    }
                    (int count, long bytes) = s.PendingArrivals.GetValueOrDefault(arrived.Message.Mailbox);
                    s.PendingArrivals[arrived.Message.Mailbox] = (count + 1, bytes + arrived.Message.Size);
                    return [];
                }
            case PrimaryWentDown down:
                s.CameUpAt = null;
                if (s.DownAlerted)
                {
                    return [];
                }
                s.DownAlerted = true;
                s.DownSince = down.At;
                return [New(e.TenantId, AlertKind.PrimaryDown, e.At) with { Host = down.Host, Reason = down.Reason }];
            case PrimaryCameUp up:
                s.OutageEnded = true;
                if (s.DownAlerted)
                {
                    s.DownAlerted = false;
                    s.CameUpAt = up.At;
                    s.DownSince = up.DownSince ?? s.DownSince;
                }
                return [];
            case HandOverFinished finished when s.CameUpAt is not null:
                {
                    HandOverProgress p = finished.Progress;
                    s.CameUpAt = null;
                    return [New(e.TenantId, AlertKind.PrimaryBack, e.At) with
                    {
                        Host = p.Host,
                        DownSince = s.DownSince,
                        HandedOver = p.Delivered,
                        StillWaiting = p.Total - p.Delivered - p.Held,
                        Seconds = ((p.Finished ?? e.At) - p.Started).TotalSeconds,
                    }];
                }
            case MessageHeld held:
                {
                    var message = new HeldMessage(held.Message.Mailbox, held.Message.BaseName, null, held.Reason);
                    TimeSpan interval = digestInterval(e.TenantId);
                    if (s.PendingHeld.Count == 0 && (s.LastHeldAlert is null || e.At - s.LastHeldAlert >= interval))
                    {
                        s.LastHeldAlert = e.At;
                        return [New(e.TenantId, AlertKind.MessageHeld, e.At) with { Held = [message], Reason = held.Reason }];
                    }
                    s.PendingHeld.Add(message);
                    return [];
                }
            case SetupChecked setup:
                {
                    if (setup.Failing.Count == 0)
                    {
                        // Note: all fixed: a fault that comes back later is new again.
                        s.SetupTold.Clear();
                        s.LastSetupAlert = null;
                        return [];
                    }
                    bool fresh = setup.Failing.Any(f => !s.SetupTold.Contains(f.Key));
                    bool due = s.LastSetupAlert is { } last && e.At - last >= SetupRepeat;
                    s.SetupTold.IntersectWith(setup.Failing.Select(f => f.Key));
                    if (!fresh && !due)
                    {
                        return [];
                    }
                    s.SetupTold.UnionWith(setup.Failing.Select(f => f.Key));
                    s.LastSetupAlert = e.At;
                    return [New(e.TenantId, AlertKind.SetupFailing, e.At) with { SetupChecks = setup.Failing }];
                }
            case DrillFinished drill:
                {
                    if (drill.Passed)
                    {
                        s.LastDrillAlert = null;
                        return [];
                    }
                    if (s.LastDrillAlert is { } told && e.At - told < SetupRepeat)
                    {
                        return [];
                    }
                    s.LastDrillAlert = e.At;
                    return [New(e.TenantId, AlertKind.DrillFailing, e.At) with { Reason = drill.Reason, Drill = drill }];
                }
            default:
                return [];
        }
    }

    /// <summary>Digests that are due, and a "primary back" that waited long enough for its hand-over.</summary>
    public IReadOnlyList<Alert> Tick(DateTimeOffset now)
    {
        var due = new List<Alert>();
        foreach ((string tenantId, TenantState s) in _tenants)
        {
            if (s.PendingArrivals.Count == 0 && s.PendingHeld.Count == 0 && s.CameUpAt is null)
            {
                // Note: the common case, every second for every tenant: no digest to look up
                // (the daemon's lookup walks the tenant list: 1,000 tenants made a million steps a second).
                continue;
            }
            TimeSpan interval = digestInterval(tenantId);
            if (s.PendingArrivals.Count > 0 && (s.LastArrivalAlert is null || now - s.LastArrivalAlert >= interval))
            {
                due.Add(New(tenantId, AlertKind.ArrivalDigest, now) with
                {
                    Mailboxes = s.PendingArrivals.Select(p => new MailboxCount(p.Key, p.Value.Count, p.Value.Bytes)).ToList(),
                });
                s.PendingArrivals.Clear();
                s.LastArrivalAlert = now;
            }
            if (s.PendingHeld.Count > 0 && (s.LastHeldAlert is null || now - s.LastHeldAlert >= interval))
            {
                due.Add(New(tenantId, AlertKind.MessageHeld, now) with { Held = [.. s.PendingHeld] });
                s.PendingHeld.Clear();
                s.LastHeldAlert = now;
            }
            if (s.CameUpAt is { } up && now - up >= BackWithoutHandOver)
            {
                s.CameUpAt = null;
                due.Add(New(tenantId, AlertKind.PrimaryBack, now) with { DownSince = s.DownSince, HandedOver = 0, Seconds = 0 });
            }
        }
        return due;
    }

    /// <summary>
    /// A storage sample: <paramref name="fraction"/> of the tenant's allocation in use, and
    /// whether the disk is under its free-space floor. Alerts when a level is crossed upwards.
    /// </summary>
    public IReadOnlyList<Alert> ObserveStorage(string tenantId, DateTimeOffset now, double fraction, long used, long limit, long diskFree, bool diskLow)
    {
        TenantState s = State(tenantId);
        int level = diskLow || fraction >= 0.95 ? 2 : fraction >= 0.80 ? 1 : fraction < 0.75 ? 0 : Math.Min(s.StorageLevel, 1);
        int before = s.StorageLevel;
        s.StorageLevel = level;
        if (level <= before)
        {
            return [];
        }
        return [New(tenantId, level == 2 ? AlertKind.StorageCritical : AlertKind.StorageWarning, now) with
        {
            StoragePercent = Math.Round(fraction * 100, 1),
            StorageUsed = used,
            StorageLimit = limit,
            DiskFree = diskFree,
        }];
    }
}
