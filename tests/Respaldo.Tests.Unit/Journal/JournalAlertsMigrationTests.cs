using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Respaldo.Tests.Journal;

/// <summary>Schema step 3 (alerts) on journals of every older version.</summary>
public sealed class JournalAlertsMigrationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("respaldo-journal-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private static long Scalar(string path, string sql)
    {
        using var c = new SqliteConnection($"Data Source={path};Pooling=False");
        c.Open();
        using SqliteCommand q = c.CreateCommand();
        q.CommandText = sql;
        return (long)q.ExecuteScalar()!;
    }

    [Fact]
    public async Task UpgradesAVersionOneJournalKeepingItsRowsAndAddsAlerts()
    {
        string path = Path.Combine(_dir, "journal.sqlite");
        using (var c = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            c.Open();
            using SqliteCommand create = c.CreateCommand();
            // Note: the version-1 schema as shipped before the alerts table existed.
            create.CommandText = """
                CREATE TABLE probes (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, tenant TEXT NOT NULL, host TEXT NOT NULL, up INTEGER NOT NULL,
                    stage TEXT NOT NULL, code INTEGER, reply TEXT NOT NULL, latency_ms REAL NOT NULL, tls INTEGER NOT NULL DEFAULT 0, max_size INTEGER);
                CREATE TABLE arrivals (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, tenant TEXT NOT NULL, mailbox TEXT NOT NULL, message TEXT NOT NULL,
                    size INTEGER NOT NULL, UNIQUE (mailbox, message));
                INSERT INTO arrivals (at, tenant, mailbox, message, size) VALUES (1, 'suempresa', 'info@suempresa.test', 'm1', 10);
                PRAGMA user_version = 1;
                """;
            create.ExecuteNonQuery();
        }
        await using (Respaldo.Journaling.Journal journal = Respaldo.Journaling.Journal.Open(path, NullLogger.Instance))
        {
            await journal.RecordAlertAsync(new Respaldo.Journaling.AlertRecord("k1", DateTimeOffset.UnixEpoch, "suempresa", "first-arrival", "s", "b", "{}", "pending", "none"));
            await journal.RecordAlertAttemptAsync("k1", "email", "sent", null);
        }
        Assert.Equal(8, Scalar(path, "PRAGMA user_version"));
        Assert.Equal(1, Scalar(path, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'recipients'"));
        Assert.Equal(1, Scalar(path, "SELECT COUNT(*) FROM arrivals WHERE message = 'm1'"));
        Assert.Equal(1, Scalar(path, "SELECT email_attempts FROM alerts WHERE key = 'k1' AND email_state = 'sent'"));
        Assert.Equal(1, Scalar(path, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'alerts_tenant_at'"));
        Assert.Equal(1, Scalar(path, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'catch_all'"));
    }

    [Fact]
    public async Task UpgradesAVersionTwoJournalKeepingTheRecipientCache()
    {
        string path = Path.Combine(_dir, "v2.sqlite");
        using (var c = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            c.Open();
            using SqliteCommand create = c.CreateCommand();
            create.CommandText = """
                CREATE TABLE recipients (tenant TEXT NOT NULL, address TEXT NOT NULL, valid INTEGER NOT NULL, checked_at INTEGER NOT NULL,
                    code INTEGER, reply TEXT NOT NULL, PRIMARY KEY (tenant, address));
                INSERT INTO recipients VALUES ('suempresa', 'info@suempresa.test', 1, 1, 250, 'ok');
                PRAGMA user_version = 2;
                """;
            create.ExecuteNonQuery();
        }
        await using (Respaldo.Journaling.Journal journal = Respaldo.Journaling.Journal.Open(path, NullLogger.Instance))
        {
            await journal.RecordAlertAsync(new Respaldo.Journaling.AlertRecord("k2", DateTimeOffset.UnixEpoch, "suempresa", "primary-down", "s", "b", "{}", "none", "pending"));
        }
        Assert.Equal(8, Scalar(path, "PRAGMA user_version"));
        Assert.Equal(1, Scalar(path, "SELECT COUNT(*) FROM recipients"));
        Assert.Equal(1, Scalar(path, "SELECT COUNT(*) FROM alerts WHERE webhook_state = 'pending'"));
    }

    [Fact]
    public void RefusesAJournalNewerThanThisProgram()
    {
        string path = Path.Combine(_dir, "future.sqlite");
        using (var c = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            c.Open();
            using SqliteCommand v = c.CreateCommand();
            v.CommandText = "PRAGMA user_version = 99";
            v.ExecuteNonQuery();
        }
        Assert.Throws<InvalidOperationException>(() => Respaldo.Journaling.Journal.Open(path, NullLogger.Instance));
    }
}
