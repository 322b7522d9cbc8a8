using Microsoft.Data.Sqlite;

namespace Respaldo.Journaling;

// Note: schema step 3, the alerts (Alerts/AlertDispatcher), in its own file beside the other steps.
public sealed partial class Journal
{
    /// <summary>Schema step 3: every alert sent (or being retried) on each channel.</summary>
    private const string AlertsSchema = """
        CREATE TABLE IF NOT EXISTS alerts (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            at INTEGER NOT NULL,
            tenant TEXT NOT NULL,
            kind TEXT NOT NULL,
            subject TEXT NOT NULL,
            body TEXT NOT NULL,
            payload TEXT NOT NULL,              -- the webhook's JSON
            email_state TEXT NOT NULL,          -- none | pending | sent | failed
            email_attempts INTEGER NOT NULL DEFAULT 0,
            email_error TEXT,
            webhook_state TEXT NOT NULL,
            webhook_attempts INTEGER NOT NULL DEFAULT 0,
            webhook_error TEXT
        );
        CREATE INDEX IF NOT EXISTS alerts_tenant_at ON alerts (tenant, at);
        """;

    private static void MigrateAlerts(SqliteConnection connection, SqliteTransaction tx) => Run(connection, tx, AlertsSchema);

    private static readonly Statement InsertAlert = new(
        "INSERT OR IGNORE INTO alerts (key, at, tenant, kind, subject, body, payload, email_state, webhook_state) " +
        "VALUES ($key, $at, $tenant, $kind, $subject, $body, $payload, $email, $webhook)",
        ("$key", SqliteType.Text), ("$at", SqliteType.Integer), ("$tenant", SqliteType.Text), ("$kind", SqliteType.Text), ("$subject", SqliteType.Text),
        ("$body", SqliteType.Text), ("$payload", SqliteType.Text), ("$email", SqliteType.Text), ("$webhook", SqliteType.Text));

    public Task RecordAlertAsync(AlertRecord r) => Enqueue(InsertAlert,
        r.Key, r.At.ToUnixTimeMilliseconds(), r.TenantId, r.Kind, r.Subject, r.Body, r.Payload, r.EmailState, r.WebhookState);

    private static Statement AlertAttempt(string channel) => new(
        $"UPDATE alerts SET {channel}_state = $state, {channel}_attempts = {channel}_attempts + 1, {channel}_error = $error WHERE key = $key",
        ("$state", SqliteType.Text), ("$error", SqliteType.Text), ("$key", SqliteType.Text));

    private static readonly Statement EmailAttempt = AlertAttempt("email");
    private static readonly Statement WebhookAttempt = AlertAttempt("webhook");

    /// <summary>Records the outcome of one delivery attempt of an alert on one channel ("email" or "webhook").</summary>
    public Task RecordAlertAttemptAsync(string key, string channel, string state, string? error) => Enqueue(
        channel switch
        {
            "email" => EmailAttempt,
            "webhook" => WebhookAttempt,
            _ => throw new ArgumentOutOfRangeException(nameof(channel), channel, "email or webhook"),
        },
        state, error, key);

    /// <summary>Alerts recorded since a time that a channel still has to deliver, oldest first (queued again after a restart).</summary>
    public IReadOnlyList<PendingAlert> PendingAlerts(DateTimeOffset since) => Query(
        "SELECT key, tenant, kind, at, subject, body, payload, email_state, webhook_state FROM alerts " +
        "WHERE at >= $since AND (email_state = 'pending' OR webhook_state = 'pending') ORDER BY at",
        c => c.Parameters.Add("$since", SqliteType.Integer).Value = since.ToUnixTimeMilliseconds(),
        r => new PendingAlert(r.GetString(0), r.GetString(1), r.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3)),
            r.GetString(4), r.GetString(5), r.GetString(6), r.GetString(7), r.GetString(8)));

    /// <summary>A tenant's alerts, newest first, with each channel's state.</summary>
    public IReadOnlyList<AlertRow> Alerts(string tenantId, int limit) => Query(
        "SELECT id, at, kind, subject, email_state, email_attempts, email_error, webhook_state, webhook_attempts, webhook_error " +
        "FROM alerts WHERE tenant = $t ORDER BY id DESC LIMIT $limit",
        c => { c.Parameters.Add("$t", SqliteType.Text).Value = tenantId; c.Parameters.Add("$limit", SqliteType.Integer).Value = limit; },
        r => new AlertRow(r.GetInt64(0), FromMs(r.GetInt64(1)), r.GetString(2), r.GetString(3), r.GetString(4), r.GetInt32(5), Text(r, 6),
            r.GetString(7), r.GetInt32(8), Text(r, 9)));
}
