using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Respaldo.Journaling;

namespace Respaldo.Tests.Journal;

/// <summary>Start-up reconciliation asks the journal once per batch of files, never once per file.</summary>
public sealed class JournalReconciliationTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("respaldo-reconcile-").FullName;
    private Respaldo.Journaling.Journal _journal = null!;

    public Task InitializeAsync()
    {
        _journal = Respaldo.Journaling.Journal.Open(Path.Combine(_dir, "journal.sqlite"), NullLogger.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _journal.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private static HandOverRecord Attempt(string mailbox, string message, string outcome) =>
        new("suempresa", mailbox, message, 10, "a@b.test", mailbox, "mx:25", outcome, "Data", outcome == "delivered" ? 250 : 451, "reply", 1, 3);

    [Fact]
    public async Task TenThousandFilesAreReconciledInOneQueryThatFindsOnlyTheDeliveredOnes()
    {
        var writes = new List<Task>();
        for (int i = 0; i < 300; i++)
        {
            writes.Add(_journal.RecordHandOverAsync(Attempt($"u{i % 7}@suempresa.test", $"{1000 + i}.M1P1.host,S=10,W=11", i % 3 == 0 ? "deferred" : "delivered")));
        }
        // The same name delivered from another mailbox is another copy.
        writes.Add(_journal.RecordHandOverAsync(Attempt("otro@suempresa.test", "9999.M1P1.host,S=10,W=11", "delivered")));
        await Task.WhenAll(writes);
        var keys = Enumerable.Range(0, 10_000).Select(i => $"u{i % 7}@suempresa.test/{1000 + i}.M1P1.host,S=10,W=11").ToList();
        keys.Add("u1@suempresa.test/9999.M1P1.host,S=10,W=11");
        keys.Add("ñandú@suempresa.test/x\"y'z");

        long before = _journal.ReadQueries;
        IReadOnlySet<string> delivered = _journal.Delivered(keys);

        Assert.Equal(1, _journal.ReadQueries - before);
        var expected = Enumerable.Range(0, 300).Where(i => i % 3 != 0).Select(i => $"u{i % 7}@suempresa.test/{1000 + i}.M1P1.host,S=10,W=11");
        Assert.Equal(expected.Order(StringComparer.Ordinal), delivered.Order(StringComparer.Ordinal));
        Assert.Empty(_journal.Delivered([]));
    }

    [Fact]
    public void TheLookupReadsTheIndexOfDeliveredCopies()
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_dir, "journal.sqlite")}");
        connection.Open();
        using SqliteCommand plan = connection.CreateCommand();
        plan.CommandText = "EXPLAIN QUERY PLAN SELECT 1 FROM handovers h WHERE h.mailbox = 'a' AND h.message = 'b' AND h.outcome = 'delivered'";
        using SqliteDataReader r = plan.ExecuteReader();
        var lines = new List<string>();
        while (r.Read())
        {
            lines.Add(r.GetString(3));
        }
        Assert.Contains(lines, l => l.Contains("handovers_delivered", StringComparison.Ordinal));
    }

    [Fact]
    public async Task OneQuerySaysWhichFilesWereDeliveredAndWhichAlreadyHaveAnArrivalRow()
    {
        // A restart: u0's two messages arrived (and were recorded) before it, one of them was
        // then delivered; u1's message is new; a delivered copy with no arrival row (a journal
        // that pruned it) is delivered only.
        await Task.WhenAll(
            _journal.RecordArrivalAsync("suempresa", "u0@suempresa.test", "1.M1P1.host,S=10,W=11", 10, DateTimeOffset.UnixEpoch),
            _journal.RecordArrivalAsync("suempresa", "u0@suempresa.test", "2.M1P1.host,S=10,W=11", 10, DateTimeOffset.UnixEpoch),
            _journal.RecordHandOverAsync(Attempt("u0@suempresa.test", "2.M1P1.host,S=10,W=11", "delivered")),
            _journal.RecordHandOverAsync(Attempt("u2@suempresa.test", "3.M1P1.host,S=10,W=11", "delivered")),
            // The same name in another mailbox is another copy.
            _journal.RecordArrivalAsync("suempresa", "otro@suempresa.test", "4.M1P1.host,S=10,W=11", 10, DateTimeOffset.UnixEpoch));
        string[] keys =
        [
            "u0@suempresa.test/1.M1P1.host,S=10,W=11", "u0@suempresa.test/2.M1P1.host,S=10,W=11",
            "u1@suempresa.test/4.M1P1.host,S=10,W=11", "u2@suempresa.test/3.M1P1.host,S=10,W=11",
        ];

        long before = _journal.ReadQueries;
        (IReadOnlySet<string> delivered, IReadOnlySet<string> arrived) = _journal.Known(keys);

        Assert.Equal(1, _journal.ReadQueries - before);
        Assert.Equal(["u0@suempresa.test/2.M1P1.host,S=10,W=11", "u2@suempresa.test/3.M1P1.host,S=10,W=11"], delivered.Order(StringComparer.Ordinal));
        Assert.Equal(["u0@suempresa.test/1.M1P1.host,S=10,W=11", "u0@suempresa.test/2.M1P1.host,S=10,W=11"], arrived.Order(StringComparer.Ordinal));
        (delivered, arrived) = _journal.Known([]);
        Assert.Empty(delivered);
        Assert.Empty(arrived);
    }

    [Fact]
    public void TheArrivalLookupReadsTheArrivalsUniqueIndex()
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_dir, "journal.sqlite")}");
        connection.Open();
        using SqliteCommand plan = connection.CreateCommand();
        plan.CommandText = "EXPLAIN QUERY PLAN SELECT 1 FROM arrivals a WHERE a.mailbox = 'a' AND a.message = 'b'";
        using SqliteDataReader r = plan.ExecuteReader();
        var lines = new List<string>();
        while (r.Read())
        {
            lines.Add(r.GetString(3));
        }
        Assert.Contains(lines, l => l.Contains("USING COVERING INDEX sqlite_autoindex_arrivals", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EveryTenantsHeldTotalsComeFromOneQueryAndAgreeWithEachTenantsOwn()
    {
        // The storage sample's pass over every tenant (every half minute): one query, not one per tenant.
        await _journal.RecordHoldAsync(new HoldRecord("a", "x@a.test", "1", 10, null, null, "/h/1", "550", 550));
        await _journal.RecordHoldAsync(new HoldRecord("a", "x@a.test", "2", 32, null, null, "/h/2", "550", 550));
        await _journal.RecordHoldAsync(new HoldRecord("b", "y@b.test", "3", 7, null, null, "/h/3", "550", 550));
        await _journal.RecordHoldAsync(new HoldRecord("b", "y@b.test", "4", 100, null, null, "/h/4", "550", 550));
        long released = _journal.Holds("b", "held", 10).Single(h => h.Message == "4").Id;
        await _journal.ResolveHoldAsync(released, "released");

        long before = _journal.ReadQueries;
        IReadOnlyDictionary<string, (int Count, long Bytes)> totals = _journal.HeldTotals();

        Assert.Equal(1, _journal.ReadQueries - before);
        Assert.Equal((2, 42L), totals["a"]);
        Assert.Equal((1, 7L), totals["b"]);
        Assert.False(totals.ContainsKey("c"));
        Assert.Equal(_journal.HeldTotal("a"), totals["a"]);
        Assert.Equal(_journal.HeldTotal("b"), totals["b"]);
    }
}
