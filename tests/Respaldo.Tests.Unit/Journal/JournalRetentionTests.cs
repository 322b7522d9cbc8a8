using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Respaldo.Journaling;

namespace Respaldo.Tests.Journal;

/// <summary>journal.keepDays: old history goes, holds still held and alerts still pending stay, totals do not go backwards.</summary>
public sealed class JournalRetentionTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("respaldo-retention-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private Respaldo.Journaling.Journal _journal = null!;

    public Task InitializeAsync()
    {
        _journal = Respaldo.Journaling.Journal.Open(Path.Combine(_dir, "journal.sqlite"), NullLogger.Instance, _time);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _journal.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    // Note: the test reads the file the way an admin with sqlite3 would; the journal itself has no raw query.
    private List<object> Column(string sql)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _journal.Path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        using SqliteDataReader reader = command.ExecuteReader();
        var values = new List<object>();
        while (reader.Read())
        {
            values.Add(reader.GetValue(0));
        }
        return values;
    }

    private long Count(string sql) => (long)Column(sql)[0];

    private async Task RecordHistoryAsync(string tag)
    {
        DateTimeOffset now = _time.GetUtcNow();
        await _journal.RecordProbeAsync(new ProbeRecord(now, "suempresa", "mx:25", true, "Quit", 250, tag, 5, false, null));
        await _journal.RecordArrivalAsync("suempresa", "info@suempresa.test", tag, 10, now);
        await _journal.RecordHandOverAsync(new HandOverRecord("suempresa", "info@suempresa.test", tag, 10, "a@b.test", "info@suempresa.test", "mx:25", "delivered", "Data", 250, "250", 1, 3));
        await _journal.RecordVerdictAsync(new VerdictRecord(now, "suempresa", "dmarc", true, "554", null, null, null));
        await _journal.RecordAlertAsync(new AlertRecord(tag + "-sent", now, "suempresa", "down", "s", "b", "{}", "sent", "none"));
        await _journal.RecordAlertAsync(new AlertRecord(tag + "-pending", now, "suempresa", "down", "s", "b", "{}", "pending", "none"));
        await _journal.RecordHoldAsync(new HoldRecord("suempresa", "info@suempresa.test", tag + "-held", 10, null, null, "/x/" + tag + "-held", "550", 550));
        await _journal.RecordHoldAsync(new HoldRecord("suempresa", "info@suempresa.test", tag + "-released", 10, null, null, "/x/" + tag + "-released", "550", 550));
        long released = (long)Column($"SELECT id FROM holds WHERE message = '{tag}-released'")[0];
        await _journal.ResolveHoldAsync(released, "released");
    }

    [Fact]
    public async Task HistoryOlderThanTheKeepPeriodIsPrunedButHeldMessagesAndPendingAlertsStay()
    {
        await RecordHistoryAsync("old");
        _time.Advance(TimeSpan.FromDays(401));
        await RecordHistoryAsync("new");
        var retention = new JournalRetention(_journal, () => TimeSpan.FromDays(400), _time, NullLogger.Instance);

        await retention.PruneOnceAsync();

        Assert.Equal(1, Count("SELECT COUNT(*) FROM probes"));
        Assert.Equal(1, Count("SELECT COUNT(*) FROM arrivals"));
        Assert.Equal(1, Count("SELECT COUNT(*) FROM handovers"));
        Assert.Equal(1, Count("SELECT COUNT(*) FROM verdicts"));
        Assert.Equal(0, Count("SELECT COUNT(*) FROM probes WHERE reply = 'old'"));
        Assert.Equal(["new-pending", "new-sent", "old-pending"], Column("SELECT key FROM alerts ORDER BY key").Cast<string>().ToList());
        Assert.Equal(["new-held", "new-released", "old-held"], Column("SELECT message FROM holds ORDER BY message").Cast<string>().ToList());
    }

    [Fact]
    public async Task NothingYoungerThanTheKeepPeriodIsPruned()
    {
        await RecordHistoryAsync("recent");
        _time.Advance(TimeSpan.FromDays(399));
        var retention = new JournalRetention(_journal, () => TimeSpan.FromDays(400), _time, NullLogger.Instance);

        Assert.Equal(0, await retention.PruneOnceAsync());
        Assert.Equal(1, Count("SELECT COUNT(*) FROM probes"));
    }

    [Fact]
    public async Task PruningManyRowsGoesInBatchesAndKeepsTheAllTimeTotals()
    {
        int old = (Respaldo.Journaling.Journal.PruneBatch * 2) + 7;
        var writes = new List<Task>();
        for (int i = 0; i < old; i++)
        {
            writes.Add(_journal.RecordProbeAsync(new ProbeRecord(_time.GetUtcNow(), "suempresa", "mx:25", i % 3 != 0, "Quit", 250, "", 2, false, null)));
            writes.Add(_journal.RecordVerdictAsync(new VerdictRecord(_time.GetUtcNow(), "suempresa", "dnsbl", true, "554", null, null, null)));
        }
        await Task.WhenAll(writes);
        _time.Advance(TimeSpan.FromDays(500));
        await _journal.RecordVerdictAsync(new VerdictRecord(_time.GetUtcNow(), "suempresa", "dnsbl", true, "554", null, null, null));

        long deleted = await _journal.PruneAsync(_time.GetUtcNow() - TimeSpan.FromDays(400));

        Assert.Equal(2L * old, deleted);
        Assert.Equal(0, Count("SELECT COUNT(*) FROM probes"));
        IReadOnlyDictionary<string, (long Count, double Sum)> probes = _journal.Pruned("suempresa", "probes");
        Assert.Equal(old, probes["1"].Count + probes["0"].Count);
        Assert.Equal(2.0 * old, probes["1"].Sum + probes["0"].Sum);
        VerdictCount verdicts = Assert.Single(_journal.CountAllVerdicts());
        Assert.Equal(old + 1, verdicts.Count);
    }
}
