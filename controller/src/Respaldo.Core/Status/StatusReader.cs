using Respaldo.Journaling;
using Respaldo.Configuration;
using Respaldo.Mailboxes;
using Respaldo.Primary;
using Respaldo.Supervision;

namespace Respaldo.Status;

/// <summary>
/// Reads a tenant's status from the running controller (what waits, the primary's state, the
/// run in progress) and from the journal (history). Everything that shows numbers (dashboard,
/// JSON API, /metrics) asks here, so they always agree. Read-only; safe from any thread.
/// </summary>
public sealed class StatusReader(RespaldoRuntime runtime, TimeProvider time)
{
    public RespaldoRuntime Runtime => runtime;

    private Journal Journal => runtime.Journal;

    public DateTimeOffset Now => time.GetUtcNow();

    public TenantStatus? Read(string tenantId)
    {
        Supervisor supervisor = runtime.Supervisor;
        if (supervisor.Find(tenantId) is not { } tenant)
        {
            return null;
        }
        DateTimeOffset now = Now;
        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        PrimaryState state = tenant.State;
        (int waiting, long bytes) = supervisor.Index.Totals(tenantId);
        DateTimeOffset? outageStart = state.Status == PrimaryStatus.Down ? state.Since : null;
        (int receivedToday, int receivedOutage) = Journal.ArrivalsSince(tenantId, today, outageStart);
        (int handedToday, int handedTotal) = Journal.DeliveriesSince(tenantId, today);
        IReadOnlyList<HoldRow> held = Holds(tenantId, "held");
        (int heldCount, long heldBytes) = Journal.HeldTotal(tenantId);
        ProbeRow? last = Probes(tenantId, null, null, 1) is [ProbeRow p, ..] ? p : null;
        return new TenantStatus(
            tenantId, tenant.Tenant.Name, state.Status, state.Since, last, waiting, bytes,
            receivedToday, receivedOutage, handedToday, handedTotal,
            held, heldBytes, Storage(tenant.Tenant, bytes + heldBytes), tenant.Current, tenant.Last)
        {
            HeldCount = heldCount,
            Border = new BorderCounts(
                BorderVerdicts(tenantId, today),
                outageStart is { } outage ? BorderVerdicts(tenantId, outage) : []),
            CatchAll = CatchAll(tenantId),
        };
    }

    /// <summary>The tenant's domains found to be catch-all at their last probe (the front door's CatchAllDetector).</summary>
    public IReadOnlyList<CatchAllDomain> CatchAll(string tenantId) =>
        Journal.LoadCatchAll(tenantId).Where(r => r.CatchAll).Select(r => new CatchAllDomain(r.Domain, r.CheckedAt, r.Probe, r.Reply)).ToList();

    /// <summary>The border's verdicts for the tenant since a time, by reason and kind.</summary>
    public IReadOnlyList<BorderCount> BorderVerdicts(string tenantId, DateTimeOffset since) =>
        Journal.CountVerdicts(tenantId, since).Select(v => new BorderCount(v.Reason, v.Permanent, v.Count)).ToList();

    /// <summary>Every tenant's verdicts ever, by reason and kind: /metrics' counters.</summary>
    public IReadOnlyList<VerdictCount> BorderTotals() => Journal.CountAllVerdicts();

    public StorageStatus Storage(Tenant tenant, long used) => Storage(tenant, used, DiskSpace.Of(runtime.Settings.StateDirectory));

    /// <summary>The same with the disk already measured: a pass over every tenant takes one statvfs, not one each.</summary>
    public StorageStatus Storage(Tenant tenant, long used, DiskSpace disk)
    {
        RespaldoSettings s = runtime.Settings;
        return new StorageStatus(used, tenant.StorageShare ?? s.Storage.Allocation, disk.Total, disk.Free, s.Storage.MinimumFree);
    }

    /// <summary>Every configured mailbox of the tenant with what waits in it.</summary>
    public IReadOnlyList<MailboxStatus> Mailboxes(string tenantId)
    {
        Supervisor supervisor = runtime.Supervisor;
        if (supervisor.Find(tenantId) is not { } tenant)
        {
            return [];
        }
        IReadOnlyDictionary<string, (int Count, long Bytes)> totals = supervisor.Index.MailboxTotals(tenantId);
        return tenant.Tenant.Mailboxes
            .Select(m => totals.TryGetValue(m.Address, out var t) ? new MailboxStatus(m.Address, t.Count, t.Bytes, m.Quota) : new MailboxStatus(m.Address, 0, 0, m.Quota))
            .ToList();
    }

    /// <summary>The probe history, newest first; <paramref name="up"/> filters by outcome, <paramref name="host"/> by host.</summary>
    public IReadOnlyList<ProbeRow> Probes(string tenantId, bool? up, string? host, int limit, long? beforeId = null) =>
        Journal.Probes(tenantId, up, host, limit, beforeId);

    public int ProbeCount(string tenantId) => Journal.ProbeCount(tenantId);

    /// <summary>Hand-over attempts, newest first; <paramref name="search"/> matches mailbox, sender, recipient, message or reply.</summary>
    public IReadOnlyList<HandOverRow> HandOvers(string tenantId, string? search, string? outcome, int limit, long? beforeId = null) =>
        Journal.HandOvers(tenantId, search, outcome, limit, beforeId);

    /// <summary>The tenant's newest holds (at most <see cref="HoldPage"/>); <paramref name="state"/> filters. Older ones: <see cref="Hold"/> by id.</summary>
    public IReadOnlyList<HoldRow> Holds(string tenantId, string? state) => Journal.Holds(tenantId, state, HoldPage);

    /// <summary>How many holds a list shows.</summary>
    public const int HoldPage = 1000;

    /// <summary>One of the tenant's holds by id, however old (beyond the list's newest <see cref="HoldPage"/> too).</summary>
    public HoldRow? Hold(string tenantId, long id) => Journal.Hold(id) is { } h && h.TenantId == tenantId ? h : null;

    /// <summary>How many messages the tenant has held now, and their bytes (all of them, not one page).</summary>
    public (int Count, long Bytes) HeldTotal(string tenantId) => Journal.HeldTotal(tenantId);

    /// <summary>Every tenant's held messages and bytes, in one query (tenants with none are absent).</summary>
    public IReadOnlyDictionary<string, (int Count, long Bytes)> HeldTotals() => Journal.HeldTotals();

    public IReadOnlyList<AlertRow> Alerts(string tenantId, int limit) => Journal.Alerts(tenantId, limit);

    /// <summary>A tenant's last fire drills, newest first.</summary>
    public IReadOnlyList<Drills.DrillResult> Drills(string tenantId, int limit) => Journal.Drills(tenantId, limit).Select(Respaldo.Drills.DrillResult.From).ToList();

    // Note: the all-time totals add what journal retention pruned, so /metrics' counters never
    // go backwards when old rows are deleted (the journal's reads do it).
    public ProbeTotals ProbeTotals(string tenantId) => Journal.ProbeTotals(tenantId);

    public long ReceivedTotal(string tenantId) => Journal.ArrivalTotal(tenantId);

    /// <summary>Hand-over attempts per outcome (delivered, deferred, held), all time.</summary>
    public IReadOnlyDictionary<string, long> HandOverTotals(string tenantId) => Journal.HandOverTotals(tenantId);

    /// <summary>
    /// Messages waiting over a window, rebuilt from the journal (arrivals minus deliveries and
    /// holds), and the primary's state per bucket from the probes (carried forward).
    /// </summary>
    public ChartSeries Chart(string tenantId, TimeSpan window, int buckets)
    {
        DateTimeOffset end = Now;
        DateTimeOffset start = end - window;
        long startMs = start.ToUnixTimeMilliseconds();
        long bucketMs = Math.Max(1, (long)window.TotalMilliseconds / buckets);
        int Bucket(long at) => (int)Math.Clamp((at - startMs) / bucketMs, 0, buckets - 1);

        int before = Journal.WaitingAt(tenantId, start);
        int[] delta = new int[buckets];
        foreach ((DateTimeOffset at, int d) in Journal.WaitingChangesSince(tenantId, start))
        {
            delta[Bucket(at.ToUnixTimeMilliseconds())] += d;
        }
        var waiting = new List<int>(buckets);
        int running = Math.Max(0, before);
        foreach (int d in delta)
        {
            running = Math.Max(0, running + d);
            waiting.Add(running);
        }

        bool? state = Journal.LastProbeUpBefore(tenantId, start);
        var down = new bool[buckets];
        var up = new bool[buckets];
        foreach ((DateTimeOffset at, bool isUp) in Journal.ProbeOutcomesSince(tenantId, start))
        {
            (isUp ? up : down)[Bucket(at.ToUnixTimeMilliseconds())] = true;
        }
        var timeline = new List<bool?>(buckets);
        for (int i = 0; i < buckets; i++)
        {
            // Note: a bucket with any failed probe counts as down (an outage, however short, shows).
            if (down[i] || up[i])
            {
                state = !down[i];
            }
            timeline.Add(state);
        }
        return new ChartSeries(start, TimeSpan.FromMilliseconds(bucketMs), waiting, timeline);
    }

}
