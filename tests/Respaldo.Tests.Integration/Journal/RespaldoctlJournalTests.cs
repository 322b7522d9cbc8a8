using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Respaldo.Journaling;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Journal;

/// <summary>respaldoctl journal check|recover, the real binary with Debian's sqlite3, on a journal with damaged pages.</summary>
[Collection(LabCollection.Name)]
public sealed class RespaldoctlJournalTests(LabFixture lab) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("respaldo-ctl-journal-").FullName;

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
        return Convert.ToInt64(q.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A journal written by the Journal class (probes and hand-overs), with two leaf pages of probes overwritten on disk.</summary>
    private async Task<string> DamagedJournalAsync()
    {
        string path = Path.Combine(_dir, "journal.sqlite");
        await using (Respaldo.Journaling.Journal journal = Respaldo.Journaling.Journal.Open(path, NullLogger.Instance))
        {
            var writes = new List<Task>();
            for (int i = 0; i < 3000; i++)
            {
                writes.Add(journal.RecordProbeAsync(new ProbeRecord(DateTimeOffset.UnixEpoch.AddSeconds(i), "suempresa", "mx:25", true, "Quit", 250, $"250 probe {i}", 3, false, null)));
            }
            for (int i = 0; i < 200; i++)
            {
                writes.Add(journal.RecordHandOverAsync(new HandOverRecord("suempresa", "info@suempresa.test", $"m{i}", 10, "a@b.test", "info@suempresa.test", "mx:25", "delivered", "Data", 250, "250", 1, 3)));
            }
            await Task.WhenAll(writes);
        }
        SqliteConnection.ClearAllPools();
        Scalar(path, "PRAGMA wal_checkpoint(TRUNCATE)");
        int pageSize = (int)Scalar(path, "PRAGMA page_size");
        SqliteConnection.ClearAllPools();
        long first = JournalPages.LeafPage(path, "probes", 5, pageSize);
        long second = JournalPages.LeafPage(path, "probes", 20, pageSize);
        using (FileStream f = new(path, FileMode.Open, FileAccess.Write))
        {
            foreach (long page in new[] { first, second })
            {
                f.Seek((page - 1) * pageSize, SeekOrigin.Begin);
                f.Write(Enumerable.Repeat((byte)0x5A, pageSize).ToArray());
            }
        }
        return path;
    }

    [Fact]
    public async Task JournalCheckReportsDamagedPagesAndRecoverRebuildsAUsableJournalKeepingTheOldFileAside()
    {
        string path = await DamagedJournalAsync();

        ProcessRunner.Result check = await lab.RespaldoctlAsync("journal", "check", "--journal", path);
        Assert.True(check.ExitCode == 1, check.ToString());
        Assert.Contains("damaged", check.Error, StringComparison.Ordinal);

        ProcessRunner.Result recover = await lab.RespaldoctlAsync("journal", "recover", "--journal", path);
        Assert.True(recover.ExitCode == 0, recover.ToString());
        string aside = Assert.Single(Directory.GetFiles(_dir, "journal.sqlite.damaged-*"), f => !f.EndsWith("-wal", StringComparison.Ordinal));
        Assert.Contains(aside, recover.Output, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir, "journal.sqlite.re*"));

        ProcessRunner.Result again = await lab.RespaldoctlAsync("journal", "check", "--journal", path);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(200, Scalar(path, "SELECT COUNT(*) FROM handovers"));
        // Note: .dump reads a table forwards to the first damaged page and backwards to the last: the rows between are lost too.
        Assert.InRange(Scalar(path, "SELECT COUNT(*) FROM probes"), 1000, 2999);
        await using Respaldo.Journaling.Journal reopened = Respaldo.Journaling.Journal.Open(path, NullLogger.Instance);
        Assert.True(reopened.WasDelivered("info@suempresa.test", "m199"));
        await reopened.RecordProbeAsync(new ProbeRecord(DateTimeOffset.UnixEpoch, "otra", "mx:25", true, "Quit", 250, "250", 1, false, 1000));
        Assert.Equal((true, 1000L), reopened.LastAdvertisedSize("otra"));
    }

    [Fact]
    public async Task JournalRecoverRefusesAJournalAProcessHasOpen()
    {
        string path = Path.Combine(_dir, "open.sqlite");
        await using Respaldo.Journaling.Journal open = Respaldo.Journaling.Journal.Open(path, NullLogger.Instance);
        await open.FlushAsync();
        // Note: this test process holds the journal open; respaldoctl is another process.
        using var held = new SqliteConnection($"Data Source={path};Pooling=False");
        held.Open();

        ProcessRunner.Result recover = await lab.RespaldoctlAsync("journal", "recover", "--journal", path);

        Assert.True(recover.ExitCode == 1, recover.ToString());
        Assert.Contains("stop respaldo first", recover.Error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir, "open.sqlite.damaged-*"));
    }
}
