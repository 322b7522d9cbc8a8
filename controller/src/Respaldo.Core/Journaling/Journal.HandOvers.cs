using Microsoft.Data.Sqlite;

namespace Respaldo.Journaling;

// Note: the reads of tables arrivals and handovers (the dashboard's counts and hand-over list,
// /metrics, the chart of what waits), in their own file; the tables are schema step 1 (Journal.cs).
public sealed partial class Journal
{
    /// <summary>True when the journal holds a recorded 250 for this copy (start-up reconciliation).</summary>
    public bool WasDelivered(string mailbox, string message) => Query(
        "SELECT 1 FROM handovers WHERE mailbox = $mailbox AND message = $message AND outcome = 'delivered' LIMIT 1",
        c => { c.Parameters.Add("$mailbox", SqliteType.Text).Value = mailbox; c.Parameters.Add("$message", SqliteType.Text).Value = message; },
        _ => true).Count > 0;

    /// <summary>Messages that arrived for the tenant since <paramref name="today"/> and since <paramref name="outage"/> (0 when null: no outage).</summary>
    public (int Today, int Outage) ArrivalsSince(string tenantId, DateTimeOffset today, DateTimeOffset? outage) => Query(
        "SELECT COUNT(*) FILTER (WHERE at >= $today), COUNT(*) FILTER (WHERE at >= $outage) FROM arrivals WHERE tenant = $t AND at >= MIN($today, $outage)",
        c =>
        {
            c.Parameters.Add("$t", SqliteType.Text).Value = tenantId;
            c.Parameters.Add("$today", SqliteType.Integer).Value = today.ToUnixTimeMilliseconds();
            c.Parameters.Add("$outage", SqliteType.Integer).Value = outage?.ToUnixTimeMilliseconds() ?? long.MaxValue;
        },
        r => (r.GetInt32(0), r.GetInt32(1)))[0];

    /// <summary>Messages that arrived for the tenant ever (those pruned included).</summary>
    public long ArrivalTotal(string tenantId) => Query(
        "SELECT COUNT(*) FROM arrivals WHERE tenant = $t", c => c.Parameters.Add("$t", SqliteType.Text).Value = tenantId, r => r.GetInt64(0))[0]
        + Pruned(tenantId, "arrivals").GetValueOrDefault("").Count;

    /// <summary>Deliveries of the tenant since <paramref name="today"/>, and ever (those pruned included).</summary>
    public (int Today, int Total) DeliveriesSince(string tenantId, DateTimeOffset today)
    {
        (int inToday, int kept) = Query(
            "SELECT COUNT(*) FILTER (WHERE at >= $today), COUNT(*) FROM handovers WHERE tenant = $t AND outcome = 'delivered'",
            c => { c.Parameters.Add("$t", SqliteType.Text).Value = tenantId; c.Parameters.Add("$today", SqliteType.Integer).Value = today.ToUnixTimeMilliseconds(); },
            r => (r.GetInt32(0), r.GetInt32(1)))[0];
        return (inToday, kept + (int)Pruned(tenantId, "handovers").GetValueOrDefault("delivered").Count);
    }

    /// <summary>Hand-over attempts, newest first; <paramref name="search"/> matches mailbox, sender, recipient, message or reply.</summary>
    public IReadOnlyList<HandOverRow> HandOvers(string tenantId, string? search, string? outcome, int limit, long? beforeId = null) => Query(
        "SELECT id, at, mailbox, message, size, sender, recipient, host, outcome, code, reply, attempt, duration_ms FROM handovers WHERE tenant = $t " +
        "AND ($outcome IS NULL OR outcome = $outcome) AND ($before IS NULL OR id < $before) " +
        "AND ($q IS NULL OR instr(lower(mailbox), $q) OR instr(lower(ifnull(sender, '')), $q) OR instr(lower(ifnull(recipient, '')), $q) " +
        "OR instr(lower(message), $q) OR instr(lower(reply), $q)) ORDER BY id DESC LIMIT $limit",
        c =>
        {
            c.Parameters.Add("$t", SqliteType.Text).Value = tenantId;
            c.Parameters.Add("$outcome", SqliteType.Text).Value = (object?)outcome ?? DBNull.Value;
            c.Parameters.Add("$q", SqliteType.Text).Value = string.IsNullOrWhiteSpace(search) ? DBNull.Value : search.Trim().ToLowerInvariant();
            c.Parameters.Add("$before", SqliteType.Integer).Value = (object?)beforeId ?? DBNull.Value;
            c.Parameters.Add("$limit", SqliteType.Integer).Value = limit;
        },
        r => new HandOverRow(r.GetInt64(0), FromMs(r.GetInt64(1)), r.GetString(2), r.GetString(3), r.GetInt64(4), Text(r, 5), Text(r, 6),
            r.GetString(7), r.GetString(8), r.IsDBNull(9) ? null : r.GetInt32(9), r.GetString(10), r.GetInt32(11), r.GetDouble(12)));

    /// <summary>Hand-over attempts per outcome (delivered, deferred, held), all time (those pruned included).</summary>
    public IReadOnlyDictionary<string, long> HandOverTotals(string tenantId)
    {
        Dictionary<string, long> totals = Query(
            "SELECT outcome, COUNT(*) FROM handovers WHERE tenant = $t GROUP BY outcome",
            c => c.Parameters.Add("$t", SqliteType.Text).Value = tenantId,
            r => (r.GetString(0), r.GetInt64(1))).ToDictionary(p => p.Item1, p => p.Item2, StringComparer.Ordinal);
        foreach ((string outcome, (long count, _)) in Pruned(tenantId, "handovers"))
        {
            totals[outcome] = totals.GetValueOrDefault(outcome) + count;
        }
        return totals;
    }

    /// <summary>Messages waiting at <paramref name="at"/> as the journal tells it: arrivals before it minus deliveries and holds before it.</summary>
    public int WaitingAt(string tenantId, DateTimeOffset at) => Query(
        "SELECT (SELECT COUNT(*) FROM arrivals WHERE tenant = $t AND at < $s) - " +
        "(SELECT COUNT(*) FROM handovers WHERE tenant = $t AND at < $s AND outcome IN ('delivered', 'held'))",
        c => { c.Parameters.Add("$t", SqliteType.Text).Value = tenantId; c.Parameters.Add("$s", SqliteType.Integer).Value = at.ToUnixTimeMilliseconds(); },
        r => r.GetInt32(0))[0];

    /// <summary>What changed the tenant's waiting messages since a time: +1 per arrival, -1 per delivery or hold.</summary>
    public IReadOnlyList<(DateTimeOffset At, int Change)> WaitingChangesSince(string tenantId, DateTimeOffset since) => Query(
        "SELECT at, 1 FROM arrivals WHERE tenant = $t AND at >= $s UNION ALL " +
        "SELECT at, -1 FROM handovers WHERE tenant = $t AND at >= $s AND outcome IN ('delivered', 'held')",
        c => { c.Parameters.Add("$t", SqliteType.Text).Value = tenantId; c.Parameters.Add("$s", SqliteType.Integer).Value = since.ToUnixTimeMilliseconds(); },
        r => (FromMs(r.GetInt64(0)), r.GetInt32(1)));
}
