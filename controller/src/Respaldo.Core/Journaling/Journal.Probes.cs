using Microsoft.Data.Sqlite;

namespace Respaldo.Journaling;

// Note: the reads of table probes (the dashboard's connection attempts, /metrics, the chart's
// timeline), in their own file; the table itself is schema step 1 (Journal.cs).
public sealed partial class Journal
{
    /// <summary>The probe history, newest first; <paramref name="up"/> filters by outcome, <paramref name="host"/> by host.</summary>
    public IReadOnlyList<ProbeRow> Probes(string tenantId, bool? up, string? host, int limit, long? beforeId = null) => Query(
        "SELECT id, at, host, up, stage, code, reply, latency_ms, tls FROM probes WHERE tenant = $t " +
        "AND ($up IS NULL OR up = $up) AND ($host IS NULL OR host = $host) AND ($before IS NULL OR id < $before) ORDER BY id DESC LIMIT $limit",
        c =>
        {
            c.Parameters.Add("$t", SqliteType.Text).Value = tenantId;
            c.Parameters.Add("$up", SqliteType.Integer).Value = up is null ? DBNull.Value : up.Value ? 1 : 0;
            c.Parameters.Add("$host", SqliteType.Text).Value = (object?)host ?? DBNull.Value;
            c.Parameters.Add("$before", SqliteType.Integer).Value = (object?)beforeId ?? DBNull.Value;
            c.Parameters.Add("$limit", SqliteType.Integer).Value = limit;
        },
        r => new ProbeRow(r.GetInt64(0), FromMs(r.GetInt64(1)), r.GetString(2), r.GetInt32(3) == 1, r.GetString(4),
            r.IsDBNull(5) ? null : r.GetInt32(5), r.GetString(6), r.GetDouble(7), r.GetInt32(8) == 1));

    /// <summary>How many probes of the tenant the journal keeps (those pruned not counted).</summary>
    public int ProbeCount(string tenantId) => Query(
        "SELECT COUNT(*) FROM probes WHERE tenant = $t", c => c.Parameters.Add("$t", SqliteType.Text).Value = tenantId, r => r.GetInt32(0))[0];

    /// <summary>
    /// The tenant's probes ever, up and down, and their total latency: the rows kept plus what
    /// retention pruned (table pruned), so /metrics' counters never go backwards.
    /// </summary>
    public ProbeTotals ProbeTotals(string tenantId)
    {
        ProbeTotals rows = Query(
            "SELECT COUNT(*) FILTER (WHERE up = 1), COUNT(*) FILTER (WHERE up = 0), ifnull(SUM(latency_ms), 0) FROM probes WHERE tenant = $t",
            c => c.Parameters.Add("$t", SqliteType.Text).Value = tenantId,
            r => new ProbeTotals(r.GetInt64(0), r.GetInt64(1), r.GetDouble(2) / 1000))[0];
        IReadOnlyDictionary<string, (long Count, double Sum)> pruned = Pruned(tenantId, "probes");
        (long upCount, double upSum) = pruned.GetValueOrDefault("1");
        (long downCount, double downSum) = pruned.GetValueOrDefault("0");
        return new ProbeTotals(rows.Up + upCount, rows.Down + downCount, rows.LatencySecondsSum + ((upSum + downSum) / 1000));
    }

    /// <summary>Whether the tenant's last probe before <paramref name="before"/> found its primary up (null: none).</summary>
    public bool? LastProbeUpBefore(string tenantId, DateTimeOffset before) => Query(
        "SELECT up FROM probes WHERE tenant = $t AND at < $s ORDER BY at DESC LIMIT 1",
        c => { c.Parameters.Add("$t", SqliteType.Text).Value = tenantId; c.Parameters.Add("$s", SqliteType.Integer).Value = before.ToUnixTimeMilliseconds(); },
        r => r.GetInt32(0) == 1) is [bool up, ..] ? up : null;

    /// <summary>The tenant's probes since a time, oldest first: when, and whether the primary was up.</summary>
    public IReadOnlyList<(DateTimeOffset At, bool Up)> ProbeOutcomesSince(string tenantId, DateTimeOffset since) => Query(
        "SELECT at, up FROM probes WHERE tenant = $t AND at >= $s ORDER BY at",
        c => { c.Parameters.Add("$t", SqliteType.Text).Value = tenantId; c.Parameters.Add("$s", SqliteType.Integer).Value = since.ToUnixTimeMilliseconds(); },
        r => (FromMs(r.GetInt64(0)), r.GetInt32(1) == 1));
}
