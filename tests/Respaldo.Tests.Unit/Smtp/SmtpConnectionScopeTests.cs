using System.Net;
using System.Net.Sockets;
using System.Text;
using Respaldo.Configuration;
using Respaldo.Smtp;

namespace Respaldo.Tests.Smtp;

/// <summary>
/// The connection's one cancellation scope, re-armed for each step: a step still times out
/// after many steps that did not, a caller's cancellation still cuts a step and is told apart
/// from a timeout, and a step after a cancelled one has its whole timeout again.
/// </summary>
public sealed class SmtpConnectionScopeTests : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private Task? _server;

    /// <summary>Answers NOOP with 250, "NOOP slow" after <paramref name="slow"/>, and never answers "NOOP never".</summary>
    private void Serve(TimeSpan slow)
    {
        _listener.Start();
        _server = Task.Run(async () =>
        {
            using TcpClient client = await _listener.AcceptTcpClientAsync(_stop.Token);
            NetworkStream stream = client.GetStream();
            using var reader = new StreamReader(stream, Encoding.ASCII);
            async Task Say(string line) => await stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"), _stop.Token);
            await Say("220 primary.test ESMTP");
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                if (line.StartsWith("EHLO", StringComparison.Ordinal))
                {
                    await Say("250-primary.test\r\n250 PIPELINING");
                }
                else if (line == "NOOP never")
                {
                    continue;
                }
                else
                {
                    if (line == "NOOP slow")
                    {
                        await Task.Delay(slow, _stop.Token);
                    }
                    await Say("250 2.0.0 Ok");
                }
            }
        });
    }

    private Task<SmtpConnection> OpenAsync(TimeSpan commandTimeout) =>
        SmtpConnection.OpenAsync(new HostPort("127.0.0.1", ((IPEndPoint)_listener.LocalEndpoint).Port), "backup.test", TlsPolicy.None, commandTimeout, CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        if (_server is not null)
        {
            try
            {
                await _server;
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
                // Note: the server ends with the test.
            }
        }
        _stop.Dispose();
    }

    [Fact]
    public async Task AStepStillTimesOutAfterManyThatDidNot()
    {
        Serve(TimeSpan.Zero);
        await using SmtpConnection connection = await OpenAsync(TimeSpan.FromMilliseconds(700));
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal(250, (await connection.CommandAsync(SmtpStage.Reset, "NOOP", CancellationToken.None)).Code);
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        SmtpSessionException e = await Assert.ThrowsAsync<SmtpSessionException>(() => connection.CommandAsync(SmtpStage.Reset, "NOOP never", CancellationToken.None));
        Assert.Equal(SmtpStage.Reset, e.Stage);
        Assert.Contains("no reply within 0.7s", e.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(650), $"timed out after {clock.Elapsed}, before the step's own timeout");
    }

    [Fact]
    public async Task TheCallersCancellationCutsAStepAndIsNotATimeout()
    {
        Serve(TimeSpan.Zero);
        await using SmtpConnection connection = await OpenAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(250, (await connection.CommandAsync(SmtpStage.Reset, "NOOP", CancellationToken.None)).Code);
        using var caller = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connection.CommandAsync(SmtpStage.Reset, "NOOP never", caller.Token));
    }

    [Fact]
    public async Task AStepAfterACancelledOneHasItsWholeTimeout()
    {
        Serve(TimeSpan.FromMilliseconds(400));
        await using SmtpConnection connection = await OpenAsync(TimeSpan.FromSeconds(2));
        using (var caller = new CancellationTokenSource(TimeSpan.FromMilliseconds(100)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connection.CommandAsync(SmtpStage.Reset, "NOOP never", caller.Token));
        }
        // Note: the scope fired; the next step gets a fresh one, not the cancelled one.
        Assert.Equal(250, (await connection.CommandAsync(SmtpStage.Reset, "NOOP slow", CancellationToken.None)).Code);
    }

    [Fact]
    public async Task AMessageScopeEndsAtItsDeadlineAndIsReArmedForTheNext()
    {
        Serve(TimeSpan.Zero);
        await using SmtpConnection connection = await OpenAsync(TimeSpan.FromSeconds(30));
        CancellationToken first;
        using (connection.MessageScope(TimeSpan.FromMilliseconds(150), CancellationToken.None, out first))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connection.CommandAsync(SmtpStage.Reset, "NOOP never", first));
            Assert.True(first.IsCancellationRequested);
        }
        using (connection.MessageScope(TimeSpan.FromSeconds(30), CancellationToken.None, out CancellationToken second))
        {
            Assert.False(second.IsCancellationRequested);
            Assert.Equal(250, (await connection.CommandAsync(SmtpStage.Reset, "NOOP", second)).Code);
        }
        using var stop = new CancellationTokenSource();
        using (connection.MessageScope(TimeSpan.FromSeconds(30), stop.Token, out CancellationToken third))
        {
            await stop.CancelAsync();
            Assert.True(third.IsCancellationRequested);
        }
    }

    [Fact]
    public async Task AStepOnAClosedConnectionFailsAsALostSession()
    {
        Serve(TimeSpan.Zero);
        SmtpConnection connection = await OpenAsync(TimeSpan.FromSeconds(5));
        await connection.DisposeAsync();
        SmtpSessionException e = await Assert.ThrowsAsync<SmtpSessionException>(() => connection.ReadReplyAsync(SmtpStage.MailFrom, TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.Equal(SmtpStage.MailFrom, e.Stage);
        Assert.Throws<SmtpSessionException>(() => connection.MessageScope(TimeSpan.FromSeconds(5), CancellationToken.None, out _));
    }
}
