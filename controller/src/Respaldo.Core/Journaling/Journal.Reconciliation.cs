using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Respaldo.Journaling;

// Note: schema step 7 and the start-up reconciliation's one query per batch of files, in their
// own file beside the other steps.
public sealed partial class Journal
{
    /// <summary>
    /// Schema step 7: the delivered rows by copy, and nothing else, so the reconciliation's
    /// lookups read this index alone (never a row of the table, never a deferred attempt).
    /// </summary>
    private const string ReconciliationSchema = """
        CREATE INDEX IF NOT EXISTS handovers_delivered ON handovers (mailbox, message) WHERE outcome = 'delivered';
        """;

    private static void MigrateReconciliation(SqliteConnection connection, SqliteTransaction tx)
    {
        // Note: every journal of schema 1 or later has the table; only a hand-made partial one
        // (the migration tests' schema 1) lacks it, and then there is nothing to index.
        using SqliteCommand exists = connection.CreateCommand();
        exists.Transaction = tx;
        exists.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'handovers'";
        if ((long)exists.ExecuteScalar()! > 0)
        {
            Run(connection, tx, ReconciliationSchema);
        }
    }

    /// <summary>Read queries run so far (each opens a pooled connection): what the reconciliation must not spend one per file on.</summary>
    internal long ReadQueries => Interlocked.Read(ref _readQueries);

    private long _readQueries;

    /// <summary>
    /// Which of these copies (MAILBOX/MESSAGE keys) the journal records as delivered: one query
    /// for the whole batch, one lookup in <c>handovers_delivered</c> per key (start-up
    /// reconciliation and every rescan's files the index did not know).
    /// </summary>
    public IReadOnlySet<string> Delivered(IReadOnlyCollection<string> keys)
    {
        if (keys.Count == 0)
        {
            return new HashSet<string>(StringComparer.Ordinal);
        }
        // Note: the keys go in as one JSON array (json_each), not as a parameter each: SQLite
        // allows a few thousand parameters, a batch may hold ten thousand keys. A mailbox
        // (local@domain) never holds a '/', so the first one splits the key.
        return Query(
            "SELECT k.value FROM json_each($keys) k WHERE EXISTS (SELECT 1 FROM handovers h " +
            "WHERE h.mailbox = substr(k.value, 1, instr(k.value, '/') - 1) AND h.message = substr(k.value, instr(k.value, '/') + 1) AND h.outcome = 'delivered')",
            c => c.Parameters.Add("$keys", SqliteType.Text).Value = JsonArray(keys),
            r => r.GetString(0)).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// For a batch of copies (MAILBOX/MESSAGE keys): which the journal records as delivered, and
    /// which already have an arrival row, in one query (a lookup in <c>handovers_delivered</c>
    /// and one in the arrivals' unique (mailbox, message) index per key). A start-up or rescan
    /// records, and announces, only the arrivals the journal does not hold yet.
    /// </summary>
    public (IReadOnlySet<string> Delivered, IReadOnlySet<string> Arrived) Known(IReadOnlyCollection<string> keys)
    {
        var delivered = new HashSet<string>(StringComparer.Ordinal);
        var arrived = new HashSet<string>(StringComparer.Ordinal);
        if (keys.Count == 0)
        {
            return (delivered, arrived);
        }
        List<(string Key, bool Delivered, bool Arrived)> rows = Query(
            "WITH k (key, mailbox, message) AS (SELECT value, substr(value, 1, instr(value, '/') - 1), substr(value, instr(value, '/') + 1) FROM json_each($keys)) " +
            "SELECT key, d, a FROM (SELECT k.key, " +
            "EXISTS (SELECT 1 FROM handovers h WHERE h.mailbox = k.mailbox AND h.message = k.message AND h.outcome = 'delivered') AS d, " +
            "EXISTS (SELECT 1 FROM arrivals a WHERE a.mailbox = k.mailbox AND a.message = k.message) AS a FROM k) WHERE d OR a",
            c => c.Parameters.Add("$keys", SqliteType.Text).Value = JsonArray(keys),
            r => (r.GetString(0), r.GetInt64(1) != 0, r.GetInt64(2) != 0));
        foreach ((string key, bool d, bool a) in rows)
        {
            if (d)
            {
                delivered.Add(key);
            }
            if (a)
            {
                arrived.Add(key);
            }
        }
        return (delivered, arrived);
    }

    private static string JsonArray(IEnumerable<string> values)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (string v in values)
            {
                writer.WriteStringValue(v);
            }
            writer.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
