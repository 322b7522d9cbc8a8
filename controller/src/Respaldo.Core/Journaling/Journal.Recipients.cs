using Microsoft.Data.Sqlite;

namespace Respaldo.Journaling;

// Note: schema step 2, the recipient cache of the front door (Policy/RecipientCache). Kept in
// its own file so that other schema steps merge beside it.
public sealed partial class Journal
{
    private static void MigrateRecipients(SqliteConnection connection, SqliteTransaction tx)
    {
        using SqliteCommand create = connection.CreateCommand();
        create.Transaction = tx;
        create.CommandText = """
            CREATE TABLE IF NOT EXISTS recipients (
                tenant TEXT NOT NULL,
                address TEXT NOT NULL,
                valid INTEGER NOT NULL,         -- 1: the primary accepted RCPT TO; 0: it refused it (5xx)
                checked_at INTEGER NOT NULL,    -- unix milliseconds of the callout
                code INTEGER,
                reply TEXT NOT NULL,
                PRIMARY KEY (tenant, address)
            );
            """;
        create.ExecuteNonQuery();
    }

    /// <summary>Records (or replaces) what a callout learned about one recipient; the task completes when it is durable.</summary>
    private static readonly Statement UpsertRecipient = new(
        "INSERT INTO recipients (tenant, address, valid, checked_at, code, reply) VALUES ($tenant, $address, $valid, $at, $code, $reply) " +
        "ON CONFLICT (tenant, address) DO UPDATE SET valid = excluded.valid, checked_at = excluded.checked_at, code = excluded.code, reply = excluded.reply",
        ("$tenant", SqliteType.Text), ("$address", SqliteType.Text), ("$valid", SqliteType.Integer), ("$at", SqliteType.Integer), ("$code", SqliteType.Integer), ("$reply", SqliteType.Text));

    public Task RecordRecipientAsync(RecipientRecord r) => Enqueue(UpsertRecipient,
        r.TenantId, r.Address, r.Valid ? 1 : 0, r.CheckedAt.ToUnixTimeMilliseconds(), r.Code, r.Reply);

    private static readonly Statement ExpireRecipients = new(
        "DELETE FROM recipients WHERE tenant = $tenant AND ((valid = 1 AND checked_at < $valid) OR (valid = 0 AND checked_at < $refused))",
        ("$tenant", SqliteType.Text), ("$valid", SqliteType.Integer), ("$refused", SqliteType.Integer));

    /// <summary>
    /// Forgets the tenant's verdicts checked before <paramref name="validBefore"/> (accepted) or
    /// <paramref name="refusedBefore"/> (refused): an expired verdict is asked again, so keeping
    /// it would only let a dictionary attack grow the table for ever.
    /// </summary>
    public Task ExpireRecipientsAsync(string tenantId, DateTimeOffset validBefore, DateTimeOffset refusedBefore) =>
        Enqueue(ExpireRecipients, tenantId, validBefore.ToUnixTimeMilliseconds(), refusedBefore.ToUnixTimeMilliseconds());

    /// <summary>Every cached verdict of one tenant (the front door loads them once, then keeps them in memory).</summary>
    public List<RecipientRecord> LoadRecipients(string tenantId) => Query(
        "SELECT tenant, address, valid, checked_at, code, reply FROM recipients WHERE tenant = $tenant",
        c => c.Parameters.AddWithValue("$tenant", tenantId),
        r => new RecipientRecord(r.GetString(0), r.GetString(1), r.GetInt64(2) == 1,
            DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3)), r.IsDBNull(4) ? null : r.GetInt32(4), r.GetString(5)));

    /// <summary>The latest probes of a tenant's primary, newest first (to restore the front door's view after a restart).</summary>
    public List<(DateTimeOffset At, bool Up, long? MaxSize)> RecentProbes(string tenantId, int count) => Query(
        "SELECT at, up, max_size FROM probes WHERE tenant = $tenant ORDER BY id DESC LIMIT $count",
        c =>
        {
            c.Parameters.AddWithValue("$tenant", tenantId);
            c.Parameters.AddWithValue("$count", count);
        },
        r => (DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(0)), r.GetInt64(1) == 1, r.IsDBNull(2) ? (long?)null : r.GetInt64(2)));

    /// <summary>The SIZE the primary advertised at its last successful probe: (true, null) for "no limit", (false, _) when never probed up.</summary>
    public (bool Known, long? MaxSize) LastAdvertisedSize(string tenantId)
    {
        List<long?> rows = Query(
            "SELECT max_size FROM probes WHERE tenant = $tenant AND up = 1 ORDER BY id DESC LIMIT 1",
            c => c.Parameters.AddWithValue("$tenant", tenantId),
            r => r.IsDBNull(0) ? (long?)null : r.GetInt64(0));
        return rows.Count == 0 ? (false, null) : (true, rows[0]);
    }
}

/// <summary>A callout's verdict on one recipient.</summary>
public sealed record RecipientRecord(string TenantId, string Address, bool Valid, DateTimeOffset CheckedAt, int? Code, string Reply);
