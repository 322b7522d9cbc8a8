using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Respaldo.Journaling;

namespace Respaldo.Tests.Journal;

/// <summary>A journal whose pages are damaged on disk: the daemon must not start on it silently.</summary>
public sealed class DamagedJournalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("respaldo-damaged-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Writes a real journal (the Journal class's own schema and rows), closes it and overwrites one leaf page of its probes table.</summary>
    internal static async Task<string> DamagedJournalAsync(string dir)
    {
        string path = Path.Combine(dir, "journal.sqlite");
        await using (Respaldo.Journaling.Journal journal = Respaldo.Journaling.Journal.Open(path, NullLogger.Instance))
        {
            var writes = new List<Task>();
            for (int i = 0; i < 3000; i++)
            {
                writes.Add(journal.RecordProbeAsync(new ProbeRecord(DateTimeOffset.UnixEpoch.AddSeconds(i), "suempresa", "mx:25", i % 2 == 0, "Quit", 250, $"250 probe {i}", 3, false, null)));
            }
            await Task.WhenAll(writes);
        }
        SqliteConnection.ClearAllPools();
        int pageSize;
        using (var c = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            c.Open();
            using SqliteCommand q = c.CreateCommand();
            q.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            q.ExecuteNonQuery();
            q.CommandText = "PRAGMA page_size";
            pageSize = (int)(long)q.ExecuteScalar()!;
        }
        SqliteConnection.ClearAllPools();
        long page = JournalPages.LeafPage(path, "probes", 10, pageSize);
        using (FileStream f = new(path, FileMode.Open, FileAccess.Write))
        {
            f.Seek((page - 1) * pageSize, SeekOrigin.Begin);
            f.Write(Enumerable.Repeat((byte)0xA5, pageSize).ToArray());
        }
        return path;
    }

    [Fact]
    public async Task ADamagedJournalStopsTheStartNamingRespaldoctlJournalRecover()
    {
        string path = await DamagedJournalAsync(_dir);
        JournalDamagedException e = Assert.Throws<JournalDamagedException>(() => Respaldo.Journaling.Journal.Open(path, NullLogger.Instance));
        Assert.Contains("respaldoctl journal recover", e.Message, StringComparison.Ordinal);
        Assert.NotEmpty(e.Problems);
    }

    [Fact]
    public async Task CheckFindsTheDamageAndRecoverKeepsTheReadableRowsAndTheDamagedFileAside()
    {
        string path = await DamagedJournalAsync(_dir);
        Assert.False(JournalRepair.Check(path).Intact);

        JournalRecovery done = JournalRepair.Recover(path, DateTimeOffset.UnixEpoch);

        Assert.True(File.Exists(done.DamagedCopy));
        Assert.InRange(done.Rows["probes"], 2000, 2999);
        Assert.True(JournalRepair.Check(path).Intact);
        await using Respaldo.Journaling.Journal reopened = Respaldo.Journaling.Journal.Open(path, NullLogger.Instance);
        Assert.Equal((true, (long?)null), reopened.LastAdvertisedSize("suempresa"));
        await reopened.RecordProbeAsync(new ProbeRecord(DateTimeOffset.UnixEpoch, "otra", "mx:25", true, "Quit", 250, "250", 1, false, 1000));
        Assert.Equal((true, 1000L), reopened.LastAdvertisedSize("otra"));
    }
}
