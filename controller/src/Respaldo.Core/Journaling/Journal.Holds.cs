using Microsoft.Data.Sqlite;

namespace Respaldo.Journaling;

// Note: table holds (schema step 1, Journal.cs): what was moved to the hold area and why, and
// what the admin decided. Every read of it is here, into one row type (HoldRow).
public sealed partial class Journal
{
    private static readonly Statement InsertHold = new(
        "INSERT INTO holds (at, tenant, mailbox, message, size, sender, recipient, path, reason, code) " +
        "VALUES ($at, $tenant, $mailbox, $message, $size, $sender, $recipient, $path, $reason, $code)",
        ("$at", SqliteType.Integer), ("$tenant", SqliteType.Text), ("$mailbox", SqliteType.Text), ("$message", SqliteType.Text), ("$size", SqliteType.Integer),
        ("$sender", SqliteType.Text), ("$recipient", SqliteType.Text), ("$path", SqliteType.Text), ("$reason", SqliteType.Text), ("$code", SqliteType.Integer));

    public Task RecordHoldAsync(HoldRecord r) => Enqueue(InsertHold,
        Now(), r.TenantId, r.Mailbox, r.Message, r.Size, r.Sender, r.Recipient, r.Path, r.Reason, r.Code);

    private static readonly Statement ResolveHold = new(
        "UPDATE holds SET state = $state, resolved_at = $at WHERE id = $id AND state = 'held'",
        ("$state", SqliteType.Text), ("$at", SqliteType.Integer), ("$id", SqliteType.Integer));

    /// <summary>Marks a held message released (sent back to its mailbox) or bounced.</summary>
    public Task ResolveHoldAsync(long holdId, string state) => Enqueue(ResolveHold, state, Now(), holdId);

    private const string HoldColumns = "id, tenant, at, mailbox, message, size, sender, recipient, path, reason, code, state";

    /// <summary>
    /// The tenant's holds (or every tenant's, <paramref name="tenantId"/> null), newest first, at
    /// most <paramref name="limit"/>, older than <paramref name="beforeId"/> for the next page;
    /// <paramref name="state"/> (held, released, bounced) filters.
    /// </summary>
    public IReadOnlyList<HoldRow> Holds(string? tenantId, string? state, int limit, long? beforeId = null) => Query(
        $"SELECT {HoldColumns} FROM holds WHERE ($t IS NULL OR tenant = $t) AND ($state IS NULL OR state = $state) " +
        "AND ($before IS NULL OR id < $before) ORDER BY id DESC LIMIT $limit",
        c =>
        {
            c.Parameters.Add("$t", SqliteType.Text).Value = (object?)tenantId ?? DBNull.Value;
            c.Parameters.Add("$state", SqliteType.Text).Value = (object?)state ?? DBNull.Value;
            c.Parameters.Add("$before", SqliteType.Integer).Value = (object?)beforeId ?? DBNull.Value;
            c.Parameters.Add("$limit", SqliteType.Integer).Value = limit;
        },
        ReadHold);

    /// <summary>Every message held now, oldest first (respaldoctl held); <paramref name="tenantId"/> null for all tenants.</summary>
    public IReadOnlyList<HoldRow> HeldOldestFirst(string? tenantId) => Query(
        $"SELECT {HoldColumns} FROM holds WHERE state = 'held' AND ($t IS NULL OR tenant = $t) ORDER BY at, id",
        c => c.Parameters.Add("$t", SqliteType.Text).Value = (object?)tenantId ?? DBNull.Value,
        ReadHold);

    /// <summary>One hold by its id, whatever its state and age (the newest 1,000 are no limit here).</summary>
    public HoldRow? Hold(long id) => Query(
        $"SELECT {HoldColumns} FROM holds WHERE id = $id",
        c => c.Parameters.Add("$id", SqliteType.Integer).Value = id,
        ReadHold) is [HoldRow row] ? row : null;

    /// <summary>How many messages the tenant has held now, and their bytes.</summary>
    public (int Count, long Bytes) HeldTotal(string tenantId) => Query(
        "SELECT COUNT(*), ifnull(SUM(size), 0) FROM holds WHERE tenant = $t AND state = 'held'",
        c => c.Parameters.Add("$t", SqliteType.Text).Value = tenantId,
        r => (r.GetInt32(0), r.GetInt64(1)))[0];

    /// <summary>
    /// Every tenant's held messages and bytes, in one query: the storage sample's, every
    /// half minute (one query per tenant was a thousand every time at 1,000 tenants).
    /// </summary>
    public IReadOnlyDictionary<string, (int Count, long Bytes)> HeldTotals() => Query(
        "SELECT tenant, COUNT(*), ifnull(SUM(size), 0) FROM holds WHERE state = 'held' GROUP BY tenant",
        _ => { },
        r => (Tenant: r.GetString(0), Count: r.GetInt32(1), Bytes: r.GetInt64(2)))
        .ToDictionary(t => t.Tenant, t => (t.Count, t.Bytes), StringComparer.Ordinal);

    /// <summary>The paths of every message held now (start-up looks for files in the hold area without a row).</summary>
    public IReadOnlySet<string> HeldPaths() => Query(
        "SELECT path FROM holds WHERE state = 'held'", _ => { }, r => r.GetString(0)).ToHashSet(StringComparer.Ordinal);

    private static HoldRow ReadHold(SqliteDataReader r) => new(
        r.GetInt64(0), r.GetString(1), FromMs(r.GetInt64(2)), r.GetString(3), r.GetString(4), r.GetInt64(5),
        r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7),
        r.GetString(8), r.GetString(9), r.IsDBNull(10) ? null : r.GetInt32(10), r.GetString(11));
}
