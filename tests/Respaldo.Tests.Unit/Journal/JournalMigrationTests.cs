using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Respaldo.Journaling;

namespace Respaldo.Tests.Journal;

public sealed class JournalMigrationTests : IDisposable
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
    public async Task UpgradesASchema1JournalKeepingItsRowsAndAddsTheRecipientCache()
    {
        string path = Path.Combine(_dir, "journal.sqlite");
        using (var c = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            c.Open();
            using SqliteCommand create = c.CreateCommand();
            // Note: schema 1 as the first release wrote it (the probes table, enough for this test).
            create.CommandText = """
                CREATE TABLE probes (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, tenant TEXT NOT NULL, host TEXT NOT NULL,
                    up INTEGER NOT NULL, stage TEXT NOT NULL, code INTEGER, reply TEXT NOT NULL, latency_ms REAL NOT NULL,
                    tls INTEGER NOT NULL DEFAULT 0, max_size INTEGER);
                INSERT INTO probes (at, tenant, host, up, stage, reply, latency_ms, max_size) VALUES (1, 'suempresa', 'mx:25', 1, 'Quit', 'ok', 3, 5000);
                PRAGMA user_version = 1;
                """;
            create.ExecuteNonQuery();
        }
        await using (Respaldo.Journaling.Journal journal = Respaldo.Journaling.Journal.Open(path, NullLogger.Instance))
        {
            Assert.Equal((true, 5000L), journal.LastAdvertisedSize("suempresa"));
            Assert.Equal((false, (long?)null), journal.LastAdvertisedSize("otra"));
            await journal.RecordRecipientAsync(new RecipientRecord("suempresa", "info@suempresa.test", true, DateTimeOffset.UnixEpoch, 250, "250 ok"));
            await journal.RecordRecipientAsync(new RecipientRecord("suempresa", "info@suempresa.test", false, DateTimeOffset.UnixEpoch.AddDays(1), 550, "550 no"));
            RecipientRecord only = Assert.Single(journal.LoadRecipients("suempresa"));
            Assert.False(only.Valid);
        }
        // Note: at least 2: later steps (other tables) may follow this one.
        Assert.True(Scalar(path, "PRAGMA user_version") >= 2);
        Assert.Equal(1, Scalar(path, "SELECT count(*) FROM recipients"));
        Assert.Equal(1, Scalar(path, "SELECT count(*) FROM probes"));
    }
}
