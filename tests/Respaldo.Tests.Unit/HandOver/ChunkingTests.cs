using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Respaldo.Configuration;
using Respaldo.Events;
using Respaldo.HandOver;
using Respaldo.Holds;
using Respaldo.Mailboxes;
using Respaldo.Smtp;
using Respaldo.Tests.Smtp;

namespace Respaldo.Tests.HandOver;

/// <summary>
/// BDAT (RFC 3030) against a scripted primary that offers CHUNKING: what it receives is what a
/// primary stores from DATA once the stuffed dots and the final dot are gone, byte for byte;
/// every reply to a chunk is classified as DATA's final reply is; nothing is deleted unless the
/// last chunk got its 250.
/// </summary>
public sealed class ChunkingTests : IAsyncDisposable
{
    private readonly ScriptedPrimary _primary = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("respaldo-bdat-").FullName;

    private const string Trace =
        "Return-Path: <sender@example.org>\nDelivered-To: info@suempresa.test\n" +
        "Received: from mail-backup.suempresa.test ([127.0.0.1])\n\tby mail-backup.suempresa.test with LMTP\n\tid x\n\t(envelope-from <sender@example.org>)\n\tfor <info@suempresa.test>; Fri, 27 Nov 2026 18:46:39 +0000\n";

    private const string Body = "From: a@example.org\nTo: info@suempresa.test\nSubject: hola\n\n.line with a dot\nend\n";

    public ChunkingTests()
    {
        _primary.Extensions.Add("CHUNKING");
    }

    public async ValueTask DisposeAsync()
    {
        await _primary.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private string Maildir => Path.Combine(_dir, "maildirs", "suempresa.test", "info");

    private WaitingMessage Store(string content, string name = "1795805199.M930396P6829.vm,S=719,W=739")
    {
        string dir = Path.Combine(Maildir, "new");
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, name);
        File.WriteAllBytes(path, Encoding.UTF8.GetBytes(content));
        return new WaitingMessage("suempresa", "info@suempresa.test", Maildir, name, path, content.Length, DateTimeOffset.UnixEpoch);
    }

    private static async Task<HandOverResult> SendAsync(ScriptedPrimary primary, WaitingMessage message, int chunkSize = 1024 * 1024, CancellationToken abort = default)
    {
        await using SmtpConnection connection = await SmtpConnection.OpenAsync(
            new HostPort("127.0.0.1", primary.Port), "mail-backup.suempresa.test", TlsPolicy.None, TimeSpan.FromSeconds(5), CancellationToken.None);
        (HandOverResult result, _) = await new MessageSender(connection, TimeSpan.FromSeconds(5)) { BdatChunkSize = chunkSize }.SendAsync(message, abort);
        return result;
    }

    /// <summary>What a primary stores from DATA: the data as sent, minus one leading dot per line (RFC 5321 §4.5.2).</summary>
    private static byte[] Unstuffed(byte[] data)
    {
        var stored = new MemoryStream();
        bool lineStart = true;
        foreach (byte b in data)
        {
            if (!(lineStart && b == (byte)'.'))
            {
                stored.WriteByte(b);
            }
            lineStart = b == (byte)'\n';
        }
        return stored.ToArray();
    }

    private List<string> Bdats() => [.. _primary.Commands.Where(c => c.StartsWith("BDAT", StringComparison.Ordinal))];

    [Theory]
    [InlineData(Body)]
    [InlineData("Subject: dots\n\n.\n..\n...x\n.x\nx.\nno final newline")]
    [InlineData("Subject: empty last line\n\nbody\n\n")]
    [InlineData("Subject: only empty lines\n\n\n\n\n")]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData(".")]
    [InlineData("Subject: ñandú\n\ncuerpo é\n.é\n")]
    public async Task ThePrimaryGetsTheBytesItWouldStoreFromData(string body)
    {
        await using var withoutChunking = new ScriptedPrimary();
        Assert.Equal(HandOverOutcome.Delivered, (await SendAsync(withoutChunking, Store(Trace + body, "1.M1P1.vm"))).Outcome);
        HandOverResult result = await SendAsync(_primary, Store(Trace + body, "2.M2P2.vm"));

        Assert.Equal(HandOverOutcome.Delivered, result.Outcome);
        Assert.Equal("250 2.0.0 Ok: queued as ABC123", result.Reply!.OneLine);
        byte[] viaBdat = Assert.Single(_primary.Messages);
        byte[] viaData = Unstuffed(Assert.Single(withoutChunking.Messages));
        Assert.Equal(Encoding.UTF8.GetString(viaData), Encoding.UTF8.GetString(viaBdat));
        Assert.True(viaData.AsSpan().SequenceEqual(viaBdat));
        // The stored bytes, LF → CRLF, a last line without LF given its CRLF; nothing else.
        string expected = body.Replace("\n", "\r\n", StringComparison.Ordinal) + (body.Length > 0 && !body.EndsWith('\n') ? "\r\n" : "");
        Assert.Equal(expected, Encoding.UTF8.GetString(viaBdat));
        Assert.Equal([$"BDAT {viaBdat.Length} LAST"], Bdats());
        Assert.DoesNotContain("DATA", _primary.Commands);
        Assert.Contains(_primary.Commands, c => c.StartsWith("MAIL FROM:<sender@example.org> SIZE=" + viaBdat.Length, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Subject: x\n\nCRLF line\r\nLF line\n")]
    [InlineData("Subject: x\r\n\r\nall CRLF\r\n")]
    [InlineData("Subject: x\n\nline\r.\rMAIL FROM:<ceo@suempresa.test>\r\n")]
    public async Task HoldsAStoredCrWithChunkingTooRatherThanSendOrRewriteIt(string body)
    {
        HandOverResult result = await SendAsync(_primary, Store(Trace + body));
        Assert.Equal(HandOverOutcome.Held, result.Outcome);
        Assert.Contains("bare CR", result.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(_primary.Commands, c => c.StartsWith("MAIL", StringComparison.Ordinal) || c.StartsWith("BDAT", StringComparison.Ordinal));
    }

    /// <summary>Lines of 78 characters (80 on the wire) and one shorter line, to exactly <paramref name="wireSize"/> bytes on the wire.</summary>
    private static string BodyOfWireSize(int wireSize)
    {
        var body = new StringBuilder();
        int left = wireSize;
        while (left >= 80 + 2 || left == 80)
        {
            body.Append('y', 78).Append('\n');
            left -= 80;
        }
        Assert.True(left is 0 or >= 2);
        if (left > 0)
        {
            body.Append('z', left - 2).Append('\n');
        }
        return body.ToString();
    }

    [Theory]
    [InlineData(1024 * 1024, new[] { "BDAT 1048576 LAST" })]
    [InlineData((1024 * 1024) + 2, new[] { "BDAT 1048576", "BDAT 2 LAST" })]
    [InlineData(2 * 1024 * 1024, new[] { "BDAT 1048576", "BDAT 1048576 LAST" })]
    [InlineData((3 * 1024 * 1024) + 100, new[] { "BDAT 1048576", "BDAT 1048576", "BDAT 1048576", "BDAT 100 LAST" })]
    public async Task AMessageAtAChunkBoundaryEndsWithAFullLastChunkNotAnEmptyOne(int wireSize, string[] chunks)
    {
        string body = BodyOfWireSize(wireSize);
        HandOverResult result = await SendAsync(_primary, Store(Trace + body));
        Assert.Equal(HandOverOutcome.Delivered, result.Outcome);
        Assert.Equal(chunks, Bdats());
        byte[] received = Assert.Single(_primary.Messages);
        Assert.Equal(wireSize, received.Length);
        Assert.True(Encoding.UTF8.GetBytes(body.Replace("\n", "\r\n", StringComparison.Ordinal)).AsSpan().SequenceEqual(received));
    }

    [Fact]
    public async Task AnEmptyMessageIsOneEmptyLastChunk()
    {
        Assert.Equal(HandOverOutcome.Delivered, (await SendAsync(_primary, Store(Trace))).Outcome);
        Assert.Equal(["BDAT 0 LAST"], Bdats());
        Assert.Empty(Assert.Single(_primary.Messages));
    }

    [Theory]
    [InlineData("452 4.3.1 Insufficient system storage", HandOverOutcome.Deferred)]
    [InlineData("554 5.7.1 rejected by content filter", HandOverOutcome.Held)]
    public async Task ARefusedLastChunkIsClassifiedAsTheReplyToTheFinalDotAndTheTransactionReset(string reply, HandOverOutcome outcome)
    {
        _primary.OnCommand = c => c.StartsWith("BDAT", StringComparison.Ordinal) ? reply : null;
        HandOverResult result = await SendAsync(_primary, Store(Trace + Body));
        Assert.Equal((outcome, SmtpStage.EndOfData), (result.Outcome, result.Stage));
        Assert.Contains(reply, result.Reason, StringComparison.Ordinal);
        Assert.False(result.SessionLost);
        Assert.Equal("RSET", _primary.Commands[^1]);
        Assert.Empty(_primary.Messages);
    }

    [Theory]
    [InlineData("452 4.3.1 Insufficient system storage", HandOverOutcome.Deferred)]
    [InlineData("552 5.3.4 Message size exceeds fixed limit", HandOverOutcome.Held)]
    public async Task ARefusedMiddleChunkVoidsTheTransactionAndNoFurtherChunkIsSent(string reply, HandOverOutcome outcome)
    {
        int bdats = 0;
        _primary.OnCommand = c => c.StartsWith("BDAT", StringComparison.Ordinal) && ++bdats == 2 ? reply : null;
        HandOverResult result = await SendAsync(_primary, Store(Trace + BodyOfWireSize(1000)), chunkSize: 100);
        Assert.Equal((outcome, SmtpStage.EndOfData), (result.Outcome, result.Stage));
        Assert.Equal(["BDAT 100", "BDAT 100"], Bdats());
        Assert.Equal("RSET", _primary.Commands[^1]);
        Assert.Empty(_primary.Messages);
    }

    [Fact]
    public async Task SmallChunksJoinToTheSameBytes()
    {
        string body = Body + BodyOfWireSize(1000);
        HandOverResult result = await SendAsync(_primary, Store(Trace + body), chunkSize: 64);
        Assert.Equal(HandOverOutcome.Delivered, result.Outcome);
        List<string> bdats = Bdats();
        Assert.All(bdats[..^1], b => Assert.Equal("BDAT 64", b));
        Assert.EndsWith(" LAST", bdats[^1], StringComparison.Ordinal);
        Assert.Equal(body.Replace("\n", "\r\n", StringComparison.Ordinal), Encoding.UTF8.GetString(Assert.Single(_primary.Messages)));
    }

    [Fact]
    public async Task AFourTwentyOneToAChunkClosesTheSession()
    {
        _primary.OnCommand = c => c.StartsWith("BDAT", StringComparison.Ordinal) ? "421 4.3.2 shutting down" : null;
        HandOverResult result = await SendAsync(_primary, Store(Trace + Body));
        Assert.Equal(HandOverOutcome.Deferred, result.Outcome);
        Assert.True(result.SessionLost && result.ServiceClosing);
        Assert.Empty(_primary.Messages);
    }

    [Fact]
    public async Task ARefusedRecipientSendsNoChunk()
    {
        _primary.OnCommand = c => c.StartsWith("RCPT", StringComparison.Ordinal) ? "550 5.1.1 no such user" : null;
        HandOverResult result = await SendAsync(_primary, Store(Trace + Body));
        Assert.Equal((HandOverOutcome.Held, SmtpStage.RcptTo), (result.Outcome, result.Stage));
        Assert.Empty(Bdats());
    }

    [Fact]
    public async Task WorksWithoutPipelining()
    {
        _primary.Extensions.Remove("PIPELINING");
        Assert.Equal(HandOverOutcome.Delivered, (await SendAsync(_primary, Store(Trace + Body))).Outcome);
        Assert.Single(_primary.Messages);
    }

    [Fact]
    public async Task AConnectionDroppedMidChunkDefersTheMessage()
    {
        _primary.OnCommand = c => c.StartsWith("BDAT", StringComparison.Ordinal) ? "DROP" : null;
        HandOverResult result = await SendAsync(_primary, Store(Trace + BodyOfWireSize(200_000)));
        Assert.Equal((HandOverOutcome.Deferred, SmtpStage.EndOfData), (result.Outcome, result.Stage));
        Assert.True(result.SessionLost);
        Assert.Empty(_primary.Messages);
    }

    /// <summary>As after the final dot: once the last chunk is out, a stop waits for its reply (a cut would leave the primary with the message and us without its 250).</summary>
    [Fact]
    public async Task AStopAfterTheLastChunkWaitsForTheReply()
    {
        using var abort = new CancellationTokenSource();
        _primary.OnMessage = _ =>
        {
            abort.Cancel();
            return "250 2.0.0 Ok: queued as STOPPED";
        };
        HandOverResult result = await SendAsync(_primary, Store(Trace + Body), abort: abort.Token);
        Assert.Equal(HandOverOutcome.Delivered, result.Outcome);
        Assert.Equal("250 2.0.0 Ok: queued as STOPPED", result.Reply!.OneLine);
    }

    /// <summary>A run of three where the primary drops the connection inside the second message's chunk: only the first and third copies are deleted.</summary>
    [Fact]
    public async Task ADropMidChunkInARunDeletesNothingButWhatGotItsTwoFifty()
    {
        RespaldoSettings settings = OneTenantSettings.For(_dir, _primary.Port);
        Assert.Equal(Path.Combine(settings.MaildirRoot, "suempresa.test", "info"), Maildir);
        await using var journal = global::Respaldo.Journaling.Journal.Open(settings.JournalPath, NullLogger.Instance);
        List<WaitingMessage> waiting = [.. Enumerable.Range(1, 3).Select(i => Store(Trace + $"Subject: {i}\n\n" + BodyOfWireSize(3000), $"179580510{i}.M1P1.vm"))];
        var index = new MailboxIndex(["suempresa"]);
        foreach (WaitingMessage m in waiting)
        {
            index.Upsert(m);
        }
        int bdats = 0;
        _primary.OnCommand = c => c.StartsWith("BDAT", StringComparison.Ordinal) && Interlocked.Increment(ref bdats) == 2 ? "DROP" : null;
        var context = new HandOverContext(settings, journal, index, new HoldArea(settings.HoldRoot), new RetrySchedule(TimeSpan.FromMinutes(10)),
            new ControllerEvents(), TimeProvider.System, NullLogger.Instance);
        Tenant tenant = settings.Tenants[0];

        HandOverProgress progress = await new HandOverRun(tenant, tenant.Primary.Hosts[0], waiting, context)
            .ExecuteAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal((2, 1, 0), (progress.Delivered, progress.Deferred, progress.Held));
        Assert.Equal([false, true, false], waiting.Select(m => File.Exists(m.Path)));
        Assert.Equal(2, _primary.Messages.Count);
        Assert.Equal([waiting[1].Key], index.Snapshot("suempresa").Select(m => m.Key));
    }
}
