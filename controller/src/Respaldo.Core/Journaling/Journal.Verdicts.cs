using Microsoft.Data.Sqlite;

namespace Respaldo.Journaling;

// Note: schema step 4, the border's verdicts (Border/), in its own file beside the other steps.
public sealed partial class Journal
{
    /// <summary>Schema step 4: every refusal (5xx) and deferral (4xx) the border gave, by tenant and reason.</summary>
    private const string VerdictsSchema = """
        CREATE TABLE IF NOT EXISTS verdicts (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,                -- unix milliseconds
            tenant TEXT NOT NULL,               -- '' when no recipient named one
            reason TEXT NOT NULL,               -- RefusalReasons.Label
            permanent INTEGER NOT NULL,         -- 1 refused (5xx), 0 deferred (4xx)
            code TEXT NOT NULL,
            recipient TEXT,
            sender TEXT,
            client TEXT
        );
        CREATE INDEX IF NOT EXISTS verdicts_tenant_at ON verdicts (tenant, at);
        """;

    private static void MigrateVerdicts(SqliteConnection connection, SqliteTransaction tx) => Run(connection, tx, VerdictsSchema);

    private static readonly Statement InsertVerdict = new(
        "INSERT INTO verdicts (at, tenant, reason, permanent, code, recipient, sender, client) " +
        "VALUES ($at, $tenant, $reason, $permanent, $code, $rcpt, $sender, $client)",
        ("$at", SqliteType.Integer), ("$tenant", SqliteType.Text), ("$reason", SqliteType.Text), ("$permanent", SqliteType.Integer),
        ("$code", SqliteType.Text), ("$rcpt", SqliteType.Text), ("$sender", SqliteType.Text), ("$client", SqliteType.Text));

    public Task RecordVerdictAsync(VerdictRecord r) => Enqueue(InsertVerdict,
        r.At.ToUnixTimeMilliseconds(), r.TenantId, r.Reason, r.Permanent ? 1 : 0, r.Code, r.Recipient, r.Sender, r.Client);

    /// <summary>A tenant's verdicts since a time, counted by reason and kind (refused or deferred).</summary>
    public IReadOnlyList<VerdictCount> CountVerdicts(string tenantId, DateTimeOffset since) => Query(
        "SELECT reason, permanent, COUNT(*) FROM verdicts WHERE tenant = $t AND at >= $since GROUP BY reason, permanent",
        c => { c.Parameters.AddWithValue("$t", tenantId); c.Parameters.AddWithValue("$since", since.ToUnixTimeMilliseconds()); },
        r => new VerdictCount(tenantId, r.GetString(0), r.GetInt32(1) == 1, r.GetInt64(2)));

    /// <summary>Every tenant's verdicts ever (those pruned included), counted by reason and kind: the counters /metrics starts from.</summary>
    public IReadOnlyList<VerdictCount> CountAllVerdicts() => Query(
        "SELECT tenant, reason, permanent, COUNT(*) FROM verdicts GROUP BY tenant, reason, permanent",
        _ => { },
        r => new VerdictCount(r.GetString(0), r.GetString(1), r.GetInt32(2) == 1, r.GetInt64(3)))
        .Concat(PrunedVerdicts())
        .GroupBy(v => (v.TenantId, v.Reason, v.Permanent))
        .Select(g => g.First() with { Count = g.Sum(v => v.Count) })
        .ToList();
}

/// <summary>One row of table verdicts.</summary>
public sealed record VerdictRecord(
    DateTimeOffset At, string TenantId, string Reason, bool Permanent, string Code, string? Recipient, string? Sender, string? Client);

/// <summary>How many verdicts of one reason and kind a tenant got.</summary>
public sealed record VerdictCount(string TenantId, string Reason, bool Permanent, long Count);
