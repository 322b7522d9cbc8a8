using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Respaldo.Journaling;

namespace Respaldo.Tests.Journal;

/// <summary>The journal's single writer: a failure fails only its own row, the writer goes on, and a closed journal refuses at once.</summary>
public sealed class JournalWriterTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("respaldo-writer-").FullName;
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

    private static HandOverRecord Delivered(string message) =>
        new("suempresa", "info@suempresa.test", message, 10, "a@b.test", "info@suempresa.test", "mx:25", "delivered", "Data", 250, "250 ok", 1, 3);

    /// <summary>
    /// Holds the writer in a step until released, so that every write queued meanwhile is
    /// committed in the same next group (the writer takes all that waits, up to its group size).
    /// </summary>
    private (Task Held, TaskCompletionSource Release) HoldWriter() => HoldWriter(_journal);

    private static (Task Held, TaskCompletionSource Release) HoldWriter(Respaldo.Journaling.Journal journal)
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task held = journal.RunOnWriterAsync((_, _) =>
        {
            entered.SetResult();
            release.Task.Wait();
            return 0;
        });
        entered.Task.Wait();
        return (held, release);
    }

    private long DeliveredRows()
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _journal.Path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using SqliteCommand q = connection.CreateCommand();
        q.CommandText = "SELECT COUNT(*) FROM handovers WHERE outcome = 'delivered'";
        return (long)q.ExecuteScalar()!;
    }

    [Fact]
    public async Task AnExceptionThatIsNotSqlitesFailsOnlyItsOwnWaiterAndTheWriterGoesOn()
    {
        (Task held, TaskCompletionSource release) = HoldWriter();
        Task before = _journal.RecordHandOverAsync(Delivered("m1"));
        Task<int> bad = _journal.RunOnWriterAsync((_, _) => throw new InvalidOperationException("not a SQLite failure"));
        Task after = _journal.RecordHandOverAsync(Delivered("m2"));
        release.SetResult();
        await held;

        InvalidOperationException e = await Assert.ThrowsAsync<InvalidOperationException>(() => bad);
        Assert.Equal("not a SQLite failure", e.Message);
        await before;
        await after;
        // The writer still serves: a later write is committed.
        await _journal.RecordHandOverAsync(Delivered("m3"));
        await _journal.FlushAsync();
        Assert.Equal(3, DeliveredRows());
    }

    [Fact]
    public async Task OneBadRowInAGroupOfGoodOnesFailsOnlyThatRow()
    {
        (Task held, TaskCompletionSource release) = HoldWriter();
        var good = Enumerable.Range(0, 10).Select(i => _journal.RecordHandOverAsync(Delivered($"good-{i}"))).ToList();
        // Note: handovers.host is NOT NULL: SQLite refuses this row (SQLITE_CONSTRAINT), as it would a row the code got wrong.
        Task bad = _journal.RecordHandOverAsync(Delivered("bad") with { Host = null! });
        good.AddRange(Enumerable.Range(10, 10).Select(i => _journal.RecordHandOverAsync(Delivered($"good-{i}"))));
        release.SetResult();
        await held;

        SqliteException e = await Assert.ThrowsAsync<SqliteException>(() => bad);
        Assert.Equal(19, e.SqliteErrorCode); // SQLITE_CONSTRAINT
        await Task.WhenAll(good);
        Assert.Equal(20, DeliveredRows());
    }

    [Fact]
    public async Task WritesAfterDisposeFailAtOnce()
    {
        await _journal.RecordHandOverAsync(Delivered("m1"));
        await _journal.DisposeAsync();

        Task probe = _journal.RecordProbeAsync(new ProbeRecord(DateTimeOffset.UtcNow, "suempresa", "mx:25", true, "Quit", 250, "ok", 1, false, null));
        Task delivery = _journal.RecordHandOverAsync(Delivered("m2"));

        // Already failed when returned: nobody waits for a writer that is gone.
        Assert.True(probe.IsFaulted);
        Assert.True(delivery.IsFaulted);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => delivery);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => _journal.FlushAsync());
    }

    /// <summary>
    /// The writer is a thread of its own, never a pool worker; a group's settlements (the
    /// hand-over's deletions) run after its commit, in the group's order, off the writer thread,
    /// and each returned task completes only after its settlement ran.
    /// </summary>
    [Fact]
    public async Task AGroupIsSettledAfterItsCommitInOrderOffTheWriterThread()
    {
        bool? writerOnPool = null;
        string? writerName = null;
        await _journal.RunOnWriterAsync((_, _) =>
        {
            writerOnPool = Thread.CurrentThread.IsThreadPoolThread;
            writerName = Thread.CurrentThread.Name;
            return 0;
        });
        Assert.False(writerOnPool);

        (Task held, TaskCompletionSource release) = HoldWriter();
        var settled = new List<(string Message, long RowsThen, Exception? Failure, string? Thread)>();
        List<Task> recorded = Enumerable.Range(0, 10).Select(i => _journal.RecordHandOverAsync(Delivered($"m{i}"), failure =>
        {
            long rows = DeliveredRows();
            lock (settled)
            {
                settled.Add(($"m{i}", rows, failure, Thread.CurrentThread.Name));
            }
        })).ToList();
        Assert.Empty(settled);
        release.SetResult();
        await held;
        await Task.WhenAll(recorded);

        // Every settlement saw all ten rows durable: the group was committed before the first ran.
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"m{i}"), settled.Select(s => s.Message));
        Assert.All(settled, s => Assert.Equal(10, s.RowsThen));
        Assert.All(settled, s => Assert.Null(s.Failure));
        Assert.All(settled, s => Assert.NotEqual(writerName, s.Thread));
    }

    [Fact]
    public async Task AFailedRowIsSettledWithItsFailureAndARefusedOneAtOnce()
    {
        (Task held, TaskCompletionSource release) = HoldWriter();
        Exception? badFailure = null;
        bool goodSettled = false;
        Task good = _journal.RecordHandOverAsync(Delivered("good"), f => goodSettled = f is null);
        Task bad = _journal.RecordHandOverAsync(Delivered("bad") with { Host = null! }, f => badFailure = f);
        release.SetResult();
        await held;
        await good;
        await Assert.ThrowsAsync<SqliteException>(() => bad);
        Assert.True(goodSettled);
        Assert.IsType<SqliteException>(badFailure);

        await _journal.DisposeAsync();
        Exception? refused = null;
        Task late = _journal.RecordHandOverAsync(Delivered("late"), f => refused = f);
        // Settled on the caller's thread before the call returns: the run stops before its next message.
        Assert.IsType<ObjectDisposedException>(refused);
        Assert.True(late.IsFaulted);
    }

    /// <summary>
    /// /healthz and the watchdog read the writer's heartbeat: a writer held in one write past its
    /// allowance is overdue ("stuck: journal writer"); an idle one owes nothing.
    /// </summary>
    [Fact]
    public async Task AWriterStuckInAWriteIsOverdueAndAnIdleOneOwesNothing()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using Respaldo.Journaling.Journal journal = Respaldo.Journaling.Journal.Open(Path.Combine(_dir, "beats.sqlite"), NullLogger.Instance, time);
        await journal.RecordHandOverAsync(Delivered("m0"));
        // Note: the row's waiter is released inside the group; the writer stops beating just after.
        Assert.True(SpinWait.SpinUntil(() => !journal.WriterHeartbeat.IsOverdue(time.GetUtcNow() + TimeSpan.FromDays(1)), TimeSpan.FromSeconds(10)),
            "an idle writer owes a beat");

        (Task stuck, TaskCompletionSource release) = HoldWriter(journal);
        Assert.False(journal.WriterHeartbeat.IsOverdue(time.GetUtcNow() + Respaldo.Journaling.Journal.GroupAllowance));
        Assert.True(journal.WriterHeartbeat.IsOverdue(time.GetUtcNow() + Respaldo.Journaling.Journal.GroupAllowance + TimeSpan.FromSeconds(1)));
        Assert.Contains("journal writer", Respaldo.Health.Liveness.Of([journal.WriterHeartbeat], time.GetUtcNow() + TimeSpan.FromMinutes(3)).Text, StringComparison.Ordinal);

        release.SetResult();
        await stuck;
        await journal.RecordHandOverAsync(Delivered("m1"));
        Assert.True(SpinWait.SpinUntil(() => !journal.WriterHeartbeat.IsOverdue(time.GetUtcNow() + TimeSpan.FromDays(1)), TimeSpan.FromSeconds(10)),
            "the writer owes a beat after its queue emptied");
    }
}
