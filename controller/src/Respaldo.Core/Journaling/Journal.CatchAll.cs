using Microsoft.Data.Sqlite;

namespace Respaldo.Journaling;

// Note: schema step 6, what the front door found out about a primary that accepts every
// address (Policy/CatchAllDetector), in its own file beside the other steps.
public sealed partial class Journal
{
    private const string CatchAllSchema = """
        CREATE TABLE IF NOT EXISTS catch_all (
            tenant TEXT NOT NULL,
            domain TEXT NOT NULL,
            catch_all INTEGER NOT NULL,     -- 1: the primary accepted a random local part; 0: it refused it (5xx)
            checked_at INTEGER NOT NULL,    -- unix milliseconds of the probe
            probe TEXT NOT NULL,            -- the random address asked for
            reply TEXT NOT NULL,
            PRIMARY KEY (tenant, domain)
        );
        """;

    private static void MigrateCatchAll(SqliteConnection connection, SqliteTransaction tx) => Run(connection, tx, CatchAllSchema);

    /// <summary>Records (or replaces) the last catch-all probe of one domain of a tenant; completes when durable.</summary>
    private static readonly Statement UpsertCatchAll = new(
        "INSERT INTO catch_all (tenant, domain, catch_all, checked_at, probe, reply) VALUES ($tenant, $domain, $catch, $at, $probe, $reply) " +
        "ON CONFLICT (tenant, domain) DO UPDATE SET catch_all = excluded.catch_all, checked_at = excluded.checked_at, probe = excluded.probe, reply = excluded.reply",
        ("$tenant", SqliteType.Text), ("$domain", SqliteType.Text), ("$catch", SqliteType.Integer), ("$at", SqliteType.Integer), ("$probe", SqliteType.Text), ("$reply", SqliteType.Text));

    public Task RecordCatchAllAsync(CatchAllRecord r) => Enqueue(UpsertCatchAll,
        r.TenantId, r.Domain, r.CatchAll ? 1 : 0, r.CheckedAt.ToUnixTimeMilliseconds(), r.Probe, r.Reply);

    /// <summary>The last catch-all probe of each domain of a tenant.</summary>
    public List<CatchAllRecord> LoadCatchAll(string tenantId) => Query(
        "SELECT tenant, domain, catch_all, checked_at, probe, reply FROM catch_all WHERE tenant = $tenant ORDER BY domain",
        c => c.Parameters.AddWithValue("$tenant", tenantId),
        r => new CatchAllRecord(r.GetString(0), r.GetString(1), r.GetInt64(2) == 1,
            DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3)), r.GetString(4), r.GetString(5)));
}

/// <summary>A catch-all probe: did the primary accept <paramref name="Probe"/>, a random address of <paramref name="Domain"/>?</summary>
public sealed record CatchAllRecord(string TenantId, string Domain, bool CatchAll, DateTimeOffset CheckedAt, string Probe, string Reply);
