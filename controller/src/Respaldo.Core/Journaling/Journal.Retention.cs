using Microsoft.Data.Sqlite;

namespace Respaldo.Journaling;

// Note: schema step 5 and the pruning of old history (journal.keepDays), in their own file.
public sealed partial class Journal
{
    /// <summary>Rows deleted per pruning step: small, so a hand-over's rows never wait long behind one.</summary>
    public const int PruneBatch = 500;

    /// <summary>
    /// Schema step 5: what pruning removed, counted per tenant, so that all-time totals
    /// (/metrics' counters, the dashboard's "handed over") never go backwards.
    /// kind: probes (key 1 up / 0 down, sum = latency ms), arrivals (key ''), handovers (key =
    /// outcome), verdicts (key = reason '|' permanent).
    /// </summary>
    private const string RetentionSchema = """
        CREATE TABLE IF NOT EXISTS pruned (
            tenant TEXT NOT NULL,
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            count INTEGER NOT NULL,
            sum REAL NOT NULL DEFAULT 0,
            PRIMARY KEY (tenant, kind, key)
        );
        """;

    private static void MigrateRetention(SqliteConnection connection, SqliteTransaction tx) => Run(connection, tx, RetentionSchema);

    /// <summary>
    /// One table's pruning: which rows are old (by id, oldest first), and how they are added
    /// to <c>pruned</c> before they go (null: nothing to count).
    /// </summary>
    private sealed record PruneRule(string Table, string Old, string? Count);

    private static readonly PruneRule[] PruneRules =
    [
        new("probes", "at < $cut",
            "SELECT tenant, 'probes', CAST(up AS TEXT), COUNT(*), SUM(latency_ms) FROM probes WHERE id IN (SELECT id FROM prune_batch) GROUP BY tenant, up"),
        new("arrivals", "at < $cut",
            "SELECT tenant, 'arrivals', '', COUNT(*), 0 FROM arrivals WHERE id IN (SELECT id FROM prune_batch) GROUP BY tenant"),
        new("handovers", "at < $cut",
            "SELECT tenant, 'handovers', outcome, COUNT(*), 0 FROM handovers WHERE id IN (SELECT id FROM prune_batch) GROUP BY tenant, outcome"),
        new("verdicts", "at < $cut",
            "SELECT tenant, 'verdicts', reason || '|' || permanent, COUNT(*), 0 FROM verdicts WHERE id IN (SELECT id FROM prune_batch) GROUP BY tenant, reason, permanent"),
        // Note: an alert still pending on a channel is the dispatcher's work list: kept.
        new("alerts", "at < $cut AND email_state <> 'pending' AND webhook_state <> 'pending'", null),
        new("drills", "at < $cut", null),
        // Note: a hold still held is a message waiting for an admin's decision: never pruned.
        new("holds", "state <> 'held' AND ifnull(resolved_at, at) < $cut", null),
    ];

    /// <summary>
    /// Deletes history older than <paramref name="cutoff"/>: probes, arrivals, hand-overs and
    /// verdicts (counted into <c>pruned</c> first), alerts no channel still retries, holds
    /// released or bounced. Never a hold still held, never the recipient cache (it has its own
    /// expiry). Each step deletes at most <see cref="PruneBatch"/> rows through the writer and
    /// is awaited before the next is queued, so hand-over rows go in between.
    /// </summary>
    public async Task<long> PruneAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        long cut = cutoff.ToUnixTimeMilliseconds();
        long total = 0;
        foreach (PruneRule rule in PruneRules)
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int deleted = await RunOnWriterAsync((c, tx) => PruneStep(c, tx, rule, cut));
                total += deleted;
                if (deleted < PruneBatch)
                {
                    break;
                }
            }
        }
        return total;
    }

    private static int PruneStep(SqliteConnection connection, SqliteTransaction tx, PruneRule rule, long cut)
    {
        void Exec(string sql)
        {
            using SqliteCommand command = connection.CreateCommand();
            command.Transaction = tx;
            command.CommandText = sql;
            command.Parameters.AddWithValue("$cut", cut);
            command.Parameters.AddWithValue("$n", PruneBatch);
            command.ExecuteNonQuery();
        }
        Exec("CREATE TEMP TABLE IF NOT EXISTS prune_batch (id INTEGER PRIMARY KEY); DELETE FROM prune_batch;");
        Exec($"INSERT INTO prune_batch SELECT id FROM {rule.Table} WHERE {rule.Old} ORDER BY id LIMIT $n");
        if (rule.Count is { } count)
        {
            // Note: "WHERE true" before ON CONFLICT is SQLite's documented way out of the parsing ambiguity of an upsert from a SELECT.
            Exec($"INSERT INTO pruned (tenant, kind, key, count, sum) SELECT * FROM ({count}) WHERE true " +
                "ON CONFLICT (tenant, kind, key) DO UPDATE SET count = count + excluded.count, sum = sum + excluded.sum");
        }
        using SqliteCommand delete = connection.CreateCommand();
        delete.Transaction = tx;
        delete.CommandText = $"DELETE FROM {rule.Table} WHERE id IN (SELECT id FROM prune_batch)";
        return delete.ExecuteNonQuery();
    }

    /// <summary>What pruning removed for a tenant, by kind and key: (count, sum).</summary>
    public IReadOnlyDictionary<string, (long Count, double Sum)> Pruned(string tenantId, string kind) => Query(
        "SELECT key, count, sum FROM pruned WHERE tenant = $t AND kind = $k",
        c => { c.Parameters.AddWithValue("$t", tenantId); c.Parameters.AddWithValue("$k", kind); },
        r => (r.GetString(0), r.GetInt64(1), r.GetDouble(2))).ToDictionary(p => p.Item1, p => (p.Item2, p.Item3), StringComparer.Ordinal);

    /// <summary>Every tenant's pruned verdicts, as <see cref="CountAllVerdicts"/> counts them.</summary>
    private List<VerdictCount> PrunedVerdicts() => Query(
        "SELECT tenant, key, count FROM pruned WHERE kind = 'verdicts'",
        _ => { },
        r =>
        {
            string key = r.GetString(1);
            int bar = key.LastIndexOf('|');
            return new VerdictCount(r.GetString(0), key[..bar], key[(bar + 1)..] == "1", r.GetInt64(2));
        });
}
