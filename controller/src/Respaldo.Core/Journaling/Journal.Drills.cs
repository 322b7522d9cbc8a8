using Microsoft.Data.Sqlite;

namespace Respaldo.Journaling;

// Note: schema step 8, the fire drills (Drills/FireDrill), in its own file beside the other steps.
public sealed partial class Journal
{
    /// <summary>Schema step 8: every fire drill, its outcome and its four timings (unix milliseconds, null when not reached).</summary>
    private const string DrillsSchema = """
        CREATE TABLE IF NOT EXISTS drills (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,            -- when the drill started
            drill TEXT NOT NULL,            -- its X-Respaldo-Drill id
            tenant TEXT NOT NULL,
            address TEXT NOT NULL,
            outcome TEXT NOT NULL,          -- passed | failed
            step TEXT NOT NULL,             -- the step that failed: intake | store | primary-down | primary | hand-over; '' when passed
            reason TEXT NOT NULL,
            accepted INTEGER,               -- the backup's intake said 250 to the data
            stored INTEGER,                 -- the maildir file's time
            seen INTEGER,                   -- the watcher saw it
            handed_over INTEGER,            -- the primary's 250, journaled
            message TEXT                    -- the maildir base name
        );
        CREATE INDEX IF NOT EXISTS drills_tenant_at ON drills (tenant, at);
        """;

    private static void MigrateDrills(SqliteConnection connection, SqliteTransaction tx) => Run(connection, tx, DrillsSchema);

    private static readonly Statement InsertDrill = new(
        "INSERT INTO drills (at, drill, tenant, address, outcome, step, reason, accepted, stored, seen, handed_over, message) " +
        "VALUES ($at, $drill, $tenant, $address, $outcome, $step, $reason, $accepted, $stored, $seen, $handed, $message)",
        ("$at", SqliteType.Integer), ("$drill", SqliteType.Text), ("$tenant", SqliteType.Text), ("$address", SqliteType.Text), ("$outcome", SqliteType.Text),
        ("$step", SqliteType.Text), ("$reason", SqliteType.Text), ("$accepted", SqliteType.Integer), ("$stored", SqliteType.Integer), ("$seen", SqliteType.Integer),
        ("$handed", SqliteType.Integer), ("$message", SqliteType.Text));

    /// <summary>Records a finished drill; completes when durable.</summary>
    public Task RecordDrillAsync(DrillRecord r) => Enqueue(InsertDrill,
        r.Started.ToUnixTimeMilliseconds(), r.Id, r.TenantId, r.Address, r.Outcome, r.Step, r.Reason,
        r.Accepted?.ToUnixTimeMilliseconds(), r.Stored?.ToUnixTimeMilliseconds(), r.Seen?.ToUnixTimeMilliseconds(), r.HandedOver?.ToUnixTimeMilliseconds(), r.Message);

    /// <summary>A tenant's drills, newest first.</summary>
    public IReadOnlyList<DrillRecord> Drills(string tenantId, int limit) => Query(
        "SELECT drill, tenant, address, at, outcome, step, reason, accepted, stored, seen, handed_over, message FROM drills " +
        "WHERE tenant = $t ORDER BY id DESC LIMIT $limit",
        c => { c.Parameters.Add("$t", SqliteType.Text).Value = tenantId; c.Parameters.Add("$limit", SqliteType.Integer).Value = limit; },
        r => new DrillRecord(r.GetString(0), r.GetString(1), r.GetString(2), FromMs(r.GetInt64(3)), r.GetString(4), r.GetString(5), r.GetString(6),
            OptionalMs(r, 7), OptionalMs(r, 8), OptionalMs(r, 9), OptionalMs(r, 10), Text(r, 11)));

    /// <summary>Each tenant's last passed drill (the primary's 250), for /metrics.</summary>
    public IReadOnlyDictionary<string, DateTimeOffset> LastPassedDrills() => Query(
        "SELECT tenant, MAX(handed_over) FROM drills WHERE outcome = 'passed' GROUP BY tenant",
        _ => { },
        r => (Tenant: r.GetString(0), At: FromMs(r.GetInt64(1)))).ToDictionary(x => x.Tenant, x => x.At, StringComparer.Ordinal);

    private static DateTimeOffset? OptionalMs(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : FromMs(r.GetInt64(i));
}

/// <summary>One row of table drills: a fire drill, its outcome (passed | failed), the step that failed, and its four timings.</summary>
public sealed record DrillRecord(
    string Id, string TenantId, string Address, DateTimeOffset Started, string Outcome, string Step, string Reason,
    DateTimeOffset? Accepted, DateTimeOffset? Stored, DateTimeOffset? Seen, DateTimeOffset? HandedOver, string? Message);
