using Respaldo.Journaling;
using Microsoft.Data.Sqlite;
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
        long today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero).ToUnixTimeMilliseconds();
        PrimaryState state = tenant.State;
        (int waiting, long bytes) = supervisor.Index.Totals(tenantId);
        long outageStart = state.Status == PrimaryStatus.Down && state.Since is { } since ? since.ToUnixTimeMilliseconds() : long.MaxValue;
        (int receivedToday, int receivedOutage) = Journal.Query(
            "SELECT COUNT(*) FILTER (WHERE at >= $today), COUNT(*) FILTER (WHERE at >= $outage) FROM arrivals WHERE tenant = $t AND at >= MIN($today, $outage)",
            c => { c.Parameters.AddWithValue("$t", tenantId); c.Parameters.AddWithValue("$today", today); c.Parameters.AddWithValue("$outage", outageStart); },
            r => (r.GetInt32(0), r.GetInt32(1)))[0];
        (int handedToday, int handedTotal) = Journal.Query(
            "SELECT COUNT(*) FILTER (WHERE at >= $today), COUNT(*) FROM handovers WHERE tenant = $t AND outcome = 'delivered'",
            c => { c.Parameters.AddWithValue("$t", tenantId); c.Parameters.AddWithValue("$today", today); },
            r => (r.GetInt32(0), r.GetInt32(1)))[0];
        handedTotal += (int)Journal.Pruned(tenantId, "handovers").GetValueOrDefault("delivered").Count;
        IReadOnlyList<HoldRow> held = Holds(tenantId, "held");
        long heldBytes = held.Sum(h => h.Size);
        ProbeRow? last = Probes(tenantId, null, null, 1) is [ProbeRow p, ..] ? p : null;
        return new TenantStatus(
            tenantId, tenant.Tenant.Name, state.Status, state.Since, last, waiting, bytes,
            receivedToday, receivedOutage, handedToday, handedTotal,
            held, heldBytes, Storage(tenant.Tenant, bytes + heldBytes), tenant.Current, tenant.Last)
        {
            Border = new BorderCounts(
                BorderVerdicts(tenantId, DateTimeOffset.FromUnixTimeMilliseconds(today)),
                outageStart == long.MaxValue ? [] : BorderVerdicts(tenantId, DateTimeOffset.FromUnixTimeMilliseconds(outageStart))),
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

    public StorageStatus Storage(Tenant tenant, long used)
    {
        RespaldoSettings s = runtime.Settings;
        DiskSpace disk = DiskSpace.Of(s.StateDirectory);
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
    public IReadOnlyList<ProbeRow> Probes(string tenantId, bool? up, string? host, int limit, long? beforeId = null) => Journal.Query(
        "SELECT id, at, host, up, stage, code, reply, latency_ms, tls FROM probes WHERE tenant = $t " +
        "AND ($up IS NULL OR up = $up) AND ($host IS NULL OR host = $host) AND ($before IS NULL OR id < $before) ORDER BY id DESC LIMIT $limit",
        c =>
        {
            c.Parameters.AddWithValue("$t", tenantId);
            c.Parameters.AddWithValue("$up", up is null ? DBNull.Value : up.Value ? 1 : 0);
            c.Parameters.AddWithValue("$host", (object?)host ?? DBNull.Value);
            c.Parameters.AddWithValue("$before", (object?)beforeId ?? DBNull.Value);
            c.Parameters.AddWithValue("$limit", limit);
        },
        r => new ProbeRow(r.GetInt64(0), FromMs(r.GetInt64(1)), r.GetString(2), r.GetInt32(3) == 1, r.GetString(4),
            r.IsDBNull(5) ? null : r.GetInt32(5), r.GetString(6), r.GetDouble(7), r.GetInt32(8) == 1));

    public int ProbeCount(string tenantId) => Journal.Query(
        "SELECT COUNT(*) FROM probes WHERE tenant = $t", c => c.Parameters.AddWithValue("$t", tenantId), r => r.GetInt32(0))[0];

    /// <summary>Hand-over attempts, newest first; <paramref name="search"/> matches mailbox, sender, recipient, message or reply.</summary>
    public IReadOnlyList<HandOverRow> HandOvers(string tenantId, string? search, string? outcome, int limit, long? beforeId = null) => Journal.Query(
        "SELECT id, at, mailbox, message, size, sender, recipient, host, outcome, code, reply, attempt, duration_ms FROM handovers WHERE tenant = $t " +
        "AND ($outcome IS NULL OR outcome = $outcome) AND ($before IS NULL OR id < $before) " +
        "AND ($q IS NULL OR instr(lower(mailbox), $q) OR instr(lower(ifnull(sender, '')), $q) OR instr(lower(ifnull(recipient, '')), $q) " +
        "OR instr(lower(message), $q) OR instr(lower(reply), $q)) ORDER BY id DESC LIMIT $limit",
        c =>
        {
            c.Parameters.AddWithValue("$t", tenantId);
            c.Parameters.AddWithValue("$outcome", (object?)outcome ?? DBNull.Value);
            c.Parameters.AddWithValue("$q", string.IsNullOrWhiteSpace(search) ? DBNull.Value : search.Trim().ToLowerInvariant());
            c.Parameters.AddWithValue("$before", (object?)beforeId ?? DBNull.Value);
            c.Parameters.AddWithValue("$limit", limit);
        },
        r => new HandOverRow(r.GetInt64(0), FromMs(r.GetInt64(1)), r.GetString(2), r.GetString(3), r.GetInt64(4), Text(r, 5), Text(r, 6),
            r.GetString(7), r.GetString(8), r.IsDBNull(9) ? null : r.GetInt32(9), r.GetString(10), r.GetInt32(11), r.GetDouble(12)));

    public IReadOnlyList<HoldRow> Holds(string tenantId, string? state) => Journal.Query(
        "SELECT id, at, mailbox, message, size, sender, recipient, path, reason, code, state FROM holds WHERE tenant = $t " +
        "AND ($state IS NULL OR state = $state) ORDER BY id DESC LIMIT 1000",
        c => { c.Parameters.AddWithValue("$t", tenantId); c.Parameters.AddWithValue("$state", (object?)state ?? DBNull.Value); },
        r => new HoldRow(r.GetInt64(0), FromMs(r.GetInt64(1)), r.GetString(2), r.GetString(3), r.GetInt64(4), Text(r, 5), Text(r, 6),
            r.GetString(7), r.GetString(8), r.IsDBNull(9) ? null : r.GetInt32(9), r.GetString(10)));

    public HoldRow? Hold(string tenantId, long id) => Holds(tenantId, null).FirstOrDefault(h => h.Id == id);

    public IReadOnlyList<AlertRow> Alerts(string tenantId, int limit) => Journal.Query(
        "SELECT id, at, kind, subject, email_state, email_attempts, email_error, webhook_state, webhook_attempts, webhook_error " +
        "FROM alerts WHERE tenant = $t ORDER BY id DESC LIMIT $limit",
        c => { c.Parameters.AddWithValue("$t", tenantId); c.Parameters.AddWithValue("$limit", limit); },
        r => new AlertRow(r.GetInt64(0), FromMs(r.GetInt64(1)), r.GetString(2), r.GetString(3), r.GetString(4), r.GetInt32(5), Text(r, 6),
            r.GetString(7), r.GetInt32(8), Text(r, 9)));

    // Note: the all-time totals add what journal retention pruned (table pruned), so /metrics'
    // counters never go backwards when old rows are deleted.
    public ProbeTotals ProbeTotals(string tenantId)
    {
        ProbeTotals rows = Journal.Query(
            "SELECT COUNT(*) FILTER (WHERE up = 1), COUNT(*) FILTER (WHERE up = 0), ifnull(SUM(latency_ms), 0) FROM probes WHERE tenant = $t",
            c => c.Parameters.AddWithValue("$t", tenantId),
            r => new ProbeTotals(r.GetInt64(0), r.GetInt64(1), r.GetDouble(2) / 1000))[0];
        IReadOnlyDictionary<string, (long Count, double Sum)> pruned = Journal.Pruned(tenantId, "probes");
        (long upCount, double upSum) = pruned.GetValueOrDefault("1");
        (long downCount, double downSum) = pruned.GetValueOrDefault("0");
        return new ProbeTotals(rows.Up + upCount, rows.Down + downCount, rows.LatencySecondsSum + ((upSum + downSum) / 1000));
    }

    public long ReceivedTotal(string tenantId) => Journal.Query(
        "SELECT COUNT(*) FROM arrivals WHERE tenant = $t", c => c.Parameters.AddWithValue("$t", tenantId), r => r.GetInt64(0))[0]
        + Journal.Pruned(tenantId, "arrivals").GetValueOrDefault("").Count;

    /// <summary>Hand-over attempts per outcome (delivered, deferred, held), all time.</summary>
    public IReadOnlyDictionary<string, long> HandOverTotals(string tenantId)
    {
        Dictionary<string, long> totals = Journal.Query(
            "SELECT outcome, COUNT(*) FROM handovers WHERE tenant = $t GROUP BY outcome",
            c => c.Parameters.AddWithValue("$t", tenantId),
            r => (r.GetString(0), r.GetInt64(1))).ToDictionary(p => p.Item1, p => p.Item2, StringComparer.Ordinal);
        foreach ((string outcome, (long count, _)) in Journal.Pruned(tenantId, "handovers"))
        {
            totals[outcome] = totals.GetValueOrDefault(outcome) + count;
        }
        return totals;
    }

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

        int before = Journal.Query(
            "SELECT (SELECT COUNT(*) FROM arrivals WHERE tenant = $t AND at < $s) - " +
            "(SELECT COUNT(*) FROM handovers WHERE tenant = $t AND at < $s AND outcome IN ('delivered', 'held'))",
            c => { c.Parameters.AddWithValue("$t", tenantId); c.Parameters.AddWithValue("$s", startMs); }, r => r.GetInt32(0))[0];
        int[] delta = new int[buckets];
        foreach ((long at, int d) in Journal.Query(
            "SELECT at, 1 FROM arrivals WHERE tenant = $t AND at >= $s UNION ALL " +
            "SELECT at, -1 FROM handovers WHERE tenant = $t AND at >= $s AND outcome IN ('delivered', 'held')",
            c => { c.Parameters.AddWithValue("$t", tenantId); c.Parameters.AddWithValue("$s", startMs); },
            r => (r.GetInt64(0), r.GetInt32(1))))
        {
            delta[Bucket(at)] += d;
        }
        var waiting = new List<int>(buckets);
        int running = Math.Max(0, before);
        foreach (int d in delta)
        {
            running = Math.Max(0, running + d);
            waiting.Add(running);
        }

        bool? state = Journal.Query(
            "SELECT up FROM probes WHERE tenant = $t AND at < $s ORDER BY at DESC LIMIT 1",
            c => { c.Parameters.AddWithValue("$t", tenantId); c.Parameters.AddWithValue("$s", startMs); }, r => r.GetInt32(0) == 1) is [bool first, ..] ? first : null;
        var down = new bool[buckets];
        var up = new bool[buckets];
        foreach ((long at, bool isUp) in Journal.Query(
            "SELECT at, up FROM probes WHERE tenant = $t AND at >= $s ORDER BY at",
            c => { c.Parameters.AddWithValue("$t", tenantId); c.Parameters.AddWithValue("$s", startMs); }, r => (r.GetInt64(0), r.GetInt32(1) == 1)))
        {
            (isUp ? up : down)[Bucket(at)] = true;
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

    private static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private static string? Text(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
}
