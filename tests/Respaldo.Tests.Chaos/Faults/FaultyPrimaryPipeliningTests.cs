using System.Net.Sockets;
using System.Text;
using Respaldo.Tests.ChaosLab;

namespace Respaldo.Tests.Faults;

/// <summary>
/// The faulty primary itself, with the real primary behind it: a fault at MAIL strikes the
/// message it is staged for, not the one before it. With pipelining across messages (RFC 2920
/// §3.1) a client sends the next MAIL right behind the previous message's final dot; the reply
/// to that dot is owed before the fault, as a real server would have sent it before it broke.
/// When the proxy swallowed it, the fault test saw the previous message delivered twice and the
/// faulted one delivered at its first attempt.
/// </summary>
[Collection(ChaosLabCollection.Name)]
public sealed class FaultyPrimaryPipeliningTests(ChaosLabFixture lab)
{
    private static readonly TimeSpan ReplyWithin = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(FaultKind.Stall)]
    [InlineData(FaultKind.DropAfterMail)]
    public async Task AFaultAtTheNextMailStillLetsTheReplyToThePreviousDotThrough(FaultKind kind)
    {
        FaultyPrimary proxy = lab.Proxy;
        proxy.Up(faults: false);
        string first = $"pipelined.{Guid.NewGuid():N}@example.org";
        string next = $"pipelined.{Guid.NewGuid():N}@example.org";
        proxy.Force(new FaultPlan(kind, FaultPoint.Mail), next);

        using var client = new TcpClient();
        await client.ConnectAsync(proxy.Host, proxy.Port);
        NetworkStream stream = client.GetStream();
        using var replies = new StreamReader(stream, Encoding.ASCII);
        Assert.StartsWith("220", await ReplyAsync(replies));
        Assert.StartsWith("250", await CommandAsync(stream, replies, "EHLO selftest.example.org"));
        Assert.StartsWith("250", await CommandAsync(stream, replies, $"MAIL FROM:<{first}>"));
        Assert.StartsWith("250", await CommandAsync(stream, replies, "RCPT TO:<info@suempresa.test>"));
        Assert.StartsWith("354", await CommandAsync(stream, replies, "DATA"));

        // The end of the data and the next message's MAIL in one write, as a pipelining client sends them.
        await WriteAsync(stream, $"From: <{first}>\r\nSubject: pipelining through the faulty primary\r\n\r\n{kind}\r\n.\r\nMAIL FROM:<{next}>\r\n");
        string toTheDot = await ReplyAsync(replies);
        Assert.True(toTheDot.StartsWith("250 ", StringComparison.Ordinal), $"the reply to the first message's dot: '{toTheDot}'");

        if (kind == FaultKind.Stall)
        {
            using var silence = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => replies.ReadLineAsync(silence.Token).AsTask());
        }
        else
        {
            Assert.Equal("(closed)", await ReplyAsync(replies));
        }
        Assert.Equal(0, proxy.ForcedPending);
    }

    private static async Task<string> CommandAsync(NetworkStream stream, StreamReader replies, string command)
    {
        await WriteAsync(stream, command + "\r\n");
        return await ReplyAsync(replies);
    }

    private static async Task WriteAsync(NetworkStream stream, string text) => await stream.WriteAsync(Encoding.ASCII.GetBytes(text));

    /// <summary>A whole reply, its lines joined; "(closed)" when the connection ended first, "(silent)" when nothing came in time.</summary>
    private static async Task<string> ReplyAsync(StreamReader replies)
    {
        using var within = new CancellationTokenSource(ReplyWithin);
        var text = new StringBuilder();
        try
        {
            while (await ReadLineAsync(replies, within.Token) is { } line)
            {
                text.Append(line).Append(' ');
                if (line.Length < 4 || line[3] != '-')
                {
                    return text.ToString().TrimEnd();
                }
            }
        }
        catch (OperationCanceledException)
        {
            return $"(silent) {text}".TrimEnd();
        }
        return $"(closed) {text}".TrimEnd();
    }

    /// <summary>The next line, or null at the end of the connection (a reset ends it too).</summary>
    private static async Task<string?> ReadLineAsync(StreamReader replies, CancellationToken ct)
    {
        try
        {
            return await replies.ReadLineAsync(ct);
        }
        catch (IOException)
        {
            return null;
        }
    }
}
