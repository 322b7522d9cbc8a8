using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Respaldo.Configuration;
using Respaldo.Events;
using Respaldo.HandOver;
using Respaldo.Holds;
using Respaldo.Mailboxes;
using Respaldo.Tests.Smtp;

namespace Respaldo.Tests.HandOver;

/// <summary>
/// Pipelining across messages (RFC 2920 §3.1) in a run on one connection to a scripted primary:
/// the next message's envelope goes in the same write as the previous message's end of data (a write no stop cuts),
/// and each rule of crash safety still holds. Each test runs with DATA and with BDAT.
/// </summary>
public sealed class PipeliningAcrossMessagesTests : IAsyncDisposable
{
    private readonly ScriptedPrimary _primary = new() { WatchPipelining = true };
    private readonly string _dir = Directory.CreateTempSubdirectory("respaldo-pipe-").FullName;
    private readonly RespaldoSettings _settings;
    private readonly global::Respaldo.Journaling.Journal _journal;
    private readonly MailboxIndex _index = new(["suempresa"]);
    private readonly RetrySchedule _retries = new(TimeSpan.FromMinutes(10));

    public PipeliningAcrossMessagesTests()
    {
        RespaldoSettings settings = OneTenantSettings.For(_dir, _primary.Port);
        _settings = settings;
        _journal = global::Respaldo.Journaling.Journal.Open(settings.JournalPath, NullLogger.Instance);
    }

    public async ValueTask DisposeAsync()
    {
        await _journal.DisposeAsync();
        await _primary.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private List<WaitingMessage> Store(int count, bool chunking)
    {
        if (chunking)
        {
            _primary.Extensions.Add("CHUNKING");
        }
        return TestMaildir.Store(_settings, 1, count, n => $".body {n}", _index);
    }

    private async Task<HandOverProgress> RunAsync(List<WaitingMessage> waiting, CancellationToken stopping = default)
    {
        var context = new HandOverContext(_settings, _journal, _index, new HoldArea(_settings.HoldRoot), _retries,
            new ControllerEvents(), TimeProvider.System, NullLogger.Instance);
        Tenant tenant = _settings.Tenants[0];
        return await new HandOverRun(tenant, tenant.Primary.Hosts[0], waiting, context)
            .ExecuteAsync(stopping, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
    }

    private static bool[] Kept(List<WaitingMessage> waiting) => [.. waiting.Select(m => File.Exists(m.Path))];

    private bool[] Due(List<WaitingMessage> waiting) => [.. waiting.Select(m => _retries.IsDue(m.Key, DateTimeOffset.UtcNow))];

    private int Count(string verb) => _primary.Commands.Count(c => c.StartsWith(verb, StringComparison.Ordinal));

    private static string Content(int i) => $"\r\nSubject: {i}\r\n\r\n.body {i}\r\n";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TheNextEnvelopeGoesInTheSameWriteAsThePreviousEndOfData(bool chunking)
    {
        List<WaitingMessage> waiting = Store(3, chunking);

        HandOverProgress progress = await RunAsync(waiting);

        Assert.Equal((3, 0, 0), (progress.Delivered, progress.Deferred, progress.Held));
        Assert.Equal([false, false, false], Kept(waiting));
        Assert.Equal([true, true, false], _primary.PipelinedAfterData);
        Assert.Equal(1, Count("EHLO"));
        string[] expected = [.. Enumerable.Range(1, 3).Select(i => chunking ? Content(i) : Content(i).Replace("\n.body", "\n..body", StringComparison.Ordinal))];
        Assert.Equal(expected, _primary.Messages.Select(m => Encoding.UTF8.GetString(m)));
        // With BDAT each envelope behind a last chunk starts with RSET (RFC 3030 §2: a refused chunk leaves the state indeterminate until one).
        Assert.Equal(chunking ? 2 : 0, Count("RSET"));
    }

    /// <summary>A 421 to the first message's end of data: the primary acted on none of the next message's commands, so the next is untouched and goes later.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AFourTwentyOneAfterTheEndOfDataLeavesTheNextMessageForLater(bool chunking)
    {
        List<WaitingMessage> waiting = Store(3, chunking);
        _primary.OnMessage = _ => "421 4.3.2 shutting down";

        HandOverProgress progress = await RunAsync(waiting);

        Assert.Equal((0, 1, 0), (progress.Delivered, progress.Deferred, progress.Held));
        Assert.Contains("421", progress.StopReason, StringComparison.Ordinal);
        Assert.True(progress.PrimaryLost);
        Assert.Equal([true, true, true], Kept(waiting));
        // The first was attempted (deferred, waits its retry); the second and third were not.
        Assert.Equal([false, true, true], Due(waiting));
        Assert.Equal([true], _primary.PipelinedAfterData);
        Assert.Equal(1, Count("MAIL"));
        Assert.Single(_primary.Messages);
    }

    /// <summary>The connection drops after the first message's end of data, its reply lost: the first stays (a possible duplicate), the next goes again from its MAIL on a new connection.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ADropAfterTheEndOfDataSendsTheNextAgainOnANewConnection(bool chunking)
    {
        List<WaitingMessage> waiting = Store(3, chunking);
        int ends = 0;
        _primary.OnMessage = _ => Interlocked.Increment(ref ends) == 1 ? null : "250 2.0.0 Ok: queued as X";

        HandOverProgress progress = await RunAsync(waiting);

        Assert.Equal((2, 1, 0), (progress.Delivered, progress.Deferred, progress.Held));
        Assert.Equal([true, false, false], Kept(waiting));
        Assert.False(_retries.IsDue(waiting[0].Key, DateTimeOffset.UtcNow));
        Assert.Equal(2, Count("EHLO"));
        // The second message's envelope was on its way behind the first's data; the primary closed
        // without acting on it, and it came again on the new connection: three MAILs acted on in all.
        Assert.True(_primary.PipelinedAfterData[0]);
        Assert.Equal(3, Count("MAIL"));
        Assert.Equal(3, _primary.Messages.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ARefusedNextMailAffectsOnlyTheNextMessage(bool chunking)
    {
        List<WaitingMessage> waiting = Store(3, chunking);
        int mails = 0;
        _primary.OnCommand = c => c.StartsWith("MAIL", StringComparison.Ordinal) && Interlocked.Increment(ref mails) == 2 ? "452 4.3.1 Insufficient system storage" : null;

        HandOverProgress progress = await RunAsync(waiting);

        Assert.Equal((2, 1, 0), (progress.Delivered, progress.Deferred, progress.Held));
        Assert.Equal([false, true, false], Kept(waiting));
        Assert.False(_retries.IsDue(waiting[1].Key, DateTimeOffset.UtcNow));
        Assert.True(_primary.PipelinedAfterData[0]);
        Assert.Equal([Content(1), Content(3)], _primary.Messages.Select(m => Encoding.UTF8.GetString(m).Replace("..body", ".body", StringComparison.Ordinal)));
        Assert.Equal(1, Count("EHLO"));
    }

    /// <summary>The first message's end of data refused: with BDAT the RSET ahead of the next envelope keeps the next transaction clean.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ARefusedEndOfDataAffectsOnlyItsOwnMessage(bool chunking)
    {
        List<WaitingMessage> waiting = Store(3, chunking);
        int ends = 0;
        _primary.OnMessage = _ => Interlocked.Increment(ref ends) == 1 ? "554 5.7.1 rejected by content filter" : "250 2.0.0 Ok: queued as X";

        HandOverProgress progress = await RunAsync(waiting);

        Assert.Equal((2, 0, 1), (progress.Delivered, progress.Deferred, progress.Held));
        Assert.Equal([false, false, false], Kept(waiting));
        Assert.True(File.Exists(Path.Combine(_settings.HoldRoot, "suempresa", "info@suempresa.test", waiting[0].BaseName)));
        Assert.Equal([true, true, false], _primary.PipelinedAfterData);
        Assert.Equal(1, Count("EHLO"));
    }

    /// <summary>A stop while the first message's reply is awaited, its next envelope already sent: the first settles on its 250; the next is left untouched (its transaction dropped before any data).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AStopMidGroupLeavesTheNextMessageUntouched(bool chunking)
    {
        List<WaitingMessage> waiting = Store(3, chunking);
        using var stopping = new CancellationTokenSource();
        _primary.OnMessage = _ =>
        {
            stopping.Cancel();
            return "250 2.0.0 Ok: queued as STOPPED";
        };

        HandOverProgress progress = await RunAsync(waiting, stopping.Token);

        Assert.Equal((1, 0, 0), (progress.Delivered, progress.Deferred, progress.Held));
        Assert.Equal([false, true, true], Kept(waiting));
        Assert.Equal([true, true, true], Due(waiting));
        Assert.Equal([true], _primary.PipelinedAfterData);
        Assert.Single(_primary.Messages);
        Assert.Equal([waiting[1].Key, waiting[2].Key], _index.Snapshot("suempresa").Select(m => m.Key));
    }

    /// <summary>
    /// The same stop, and the primary refuses the next envelope already sent (421 at its RCPT, as
    /// another worker's 421 stops a run): the refusal, read before the connection is dropped, is
    /// the next message's attempt, journaled and deferred like any other; the third is untouched.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AStopMidGroupStillSettlesTheNextMessageOnItsRefusal(bool chunking)
    {
        List<WaitingMessage> waiting = Store(3, chunking);
        using var stopping = new CancellationTokenSource();
        int rcpts = 0;
        _primary.OnCommand = c => c.StartsWith("RCPT", StringComparison.Ordinal) && Interlocked.Increment(ref rcpts) == 2 ? "421 4.3.2 shutting down" : null;
        _primary.OnMessage = _ =>
        {
            stopping.Cancel();
            return "250 2.0.0 Ok: queued as STOPPED";
        };

        HandOverProgress progress = await RunAsync(waiting, stopping.Token);

        Assert.Equal((1, 1, 0), (progress.Delivered, progress.Deferred, progress.Held));
        Assert.Equal([false, true, true], Kept(waiting));
        Assert.Equal([true, false, true], Due(waiting));
        Assert.Equal([true], _primary.PipelinedAfterData);
        Assert.Single(_primary.Messages);
        await _journal.FlushAsync();
        Assert.Equal(["deferred RcptTo 421"], JournalRows(waiting[1]));
        Assert.Empty(JournalRows(waiting[2]));
    }

    /// <summary>The same stop with a permanent refusal of the next envelope: the next is held, as it would have been without the stop, and no RSET is spent on a connection about to be dropped.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AStopMidGroupHoldsTheNextMessageOnAPermanentRefusal(bool chunking)
    {
        List<WaitingMessage> waiting = Store(3, chunking);
        using var stopping = new CancellationTokenSource();
        int rcpts = 0;
        _primary.OnCommand = c => c.StartsWith("RCPT", StringComparison.Ordinal) && Interlocked.Increment(ref rcpts) == 2 ? "550 5.1.1 no such user" : null;
        _primary.OnMessage = _ =>
        {
            stopping.Cancel();
            return "250 2.0.0 Ok: queued as STOPPED";
        };

        HandOverProgress progress = await RunAsync(waiting, stopping.Token);

        Assert.Equal((1, 0, 1), (progress.Delivered, progress.Deferred, progress.Held));
        Assert.Equal([false, false, true], Kept(waiting));
        Assert.True(File.Exists(Path.Combine(_settings.HoldRoot, "suempresa", "info@suempresa.test", waiting[1].BaseName)));
        Assert.Single(_primary.Messages);
        // With BDAT the one RSET is the one ahead of the next envelope; none after the refusal.
        Assert.Equal(chunking ? 1 : 0, Count("RSET"));
        Assert.Equal(0, Count("QUIT"));
    }

    private List<string> JournalRows(WaitingMessage message)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_settings.JournalPath};Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT outcome, stage, code FROM handovers WHERE message = $m ORDER BY id";
        command.Parameters.AddWithValue("$m", message.BaseName);
        var rows = new List<string>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            rows.Add($"{reader.GetString(0)} {reader.GetString(1)} {reader.GetValue(2)}");
        }
        return rows;
    }
}
