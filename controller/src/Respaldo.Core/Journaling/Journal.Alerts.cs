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

    public Task RecordAlertAsync(AlertRecord r) => Enqueue(
        "INSERT OR IGNORE INTO alerts (key, at, tenant, kind, subject, body, payload, email_state, webhook_state) " +
        "VALUES ($key, $at, $tenant, $kind, $subject, $body, $payload, $email, $webhook)",
        c =>
        {
            c.Parameters.AddWithValue("$key", r.Key);
            c.Parameters.AddWithValue("$at", r.At.ToUnixTimeMilliseconds());
            c.Parameters.AddWithValue("$tenant", r.TenantId);
            c.Parameters.AddWithValue("$kind", r.Kind);
            c.Parameters.AddWithValue("$subject", r.Subject);
            c.Parameters.AddWithValue("$body", r.Body);
            c.Parameters.AddWithValue("$payload", r.Payload);
            c.Parameters.AddWithValue("$email", r.EmailState);
            c.Parameters.AddWithValue("$webhook", r.WebhookState);
        });

    /// <summary>Records the outcome of one delivery attempt of an alert on one channel ("email" or "webhook").</summary>
    public Task RecordAlertAttemptAsync(string key, string channel, string state, string? error)
    {
        if (channel is not ("email" or "webhook"))
        {
            throw new ArgumentOutOfRangeException(nameof(channel), channel, "email or webhook");
        }
        return Enqueue(
            $"UPDATE alerts SET {channel}_state = $state, {channel}_attempts = {channel}_attempts + 1, {channel}_error = $error WHERE key = $key",
            c =>
            {
                c.Parameters.AddWithValue("$key", key);
                c.Parameters.AddWithValue("$state", state);
                c.Parameters.AddWithValue("$error", (object?)error ?? DBNull.Value);
            });
    }
}
