using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Respaldo.Configuration;

namespace Respaldo.Smtp;

/// <summary>
/// One SMTP client connection to a tenant's primary, used by the probe and the hand-over.
/// It speaks exactly the commands it is given and writes exactly the bytes it is handed:
/// the hand-over needs the message to leave byte for byte as stored, which MailKit's
/// MIME-first send path cannot promise (it rebuilds the header/body boundary and decides
/// BODY= from MIME parts). Connection setup follows RFC 5321: greeting, EHLO (HELO for a
/// server that does not know EHLO), STARTTLS per the tenant's policy (RFC 3207), EHLO again.
/// </summary>
public sealed class SmtpConnection : IAsyncDisposable
{
    private const int MaxReplyBytes = 64 * 1024;
    private const int OutputBufferSize = 64 * 1024;

    /// <summary>What one write may take at most <see cref="CommandTimeout"/> to go: the primary's idle limit is per slice, not per buffer.</summary>
    private const int WriteSlice = 16 * 1024;

    private readonly Socket _socket;
    private Stream _stream;
    private readonly byte[] _input = new byte[8192];
    private int _inputStart;
    private int _inputEnd;
    private readonly byte[] _output = ArrayPool<byte>.Shared.Rent(OutputBufferSize);
    private int _outputLength;
    private bool _disposed;

    /// <summary>
    /// The connection's one cancellation scope, re-armed for each step (a write slice, a reply):
    /// its timer is the step's timeout and the caller's token is linked to it by a registration
    /// that lasts the step. Before, each step made a linked source and a timer of its own (about
    /// six a message); now a step costs a timer change and a registration, and allocates nothing
    /// unless the source fired (a timer left armed after a step can fire on an idle connection:
    /// the next step then makes a new source).
    /// Replaced only after it fired (a step timed out, or the caller cancelled one).
    /// </summary>
    private CancellationTokenSource _step = new();

    /// <summary>The scope of the message on the connection (<see cref="MessageScope"/>), reused the same way.</summary>
    private CancellationTokenSource _message = new();

    private SmtpConnection(Socket socket, HostPort endpoint, TimeSpan commandTimeout, ActivityCounter? activity)
    {
        Activity = activity ?? new ActivityCounter();
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        Endpoint = endpoint;
        CommandTimeout = commandTimeout;
    }

    public HostPort Endpoint { get; }

    public TimeSpan CommandTimeout { get; }

    /// <summary>Counts every slice written and every reply line read: the hand-over's proof of progress (a slow primary that still reads is alive).</summary>
    public ActivityCounter Activity { get; }

    public SmtpReply Greeting { get; private set; } = new(0, "");

    public SmtpCapabilities Capabilities { get; private set; } = SmtpCapabilities.None;

    public bool IsEncrypted => _stream is SslStream;

    /// <summary>
    /// Connects, reads the greeting, says EHLO and negotiates TLS as <paramref name="tls"/> asks.
    /// Throws <see cref="SmtpSessionException"/> naming the stage that failed.
    /// </summary>
    public static async Task<SmtpConnection> OpenAsync(
        HostPort endpoint, string heloName, TlsPolicy tls, TimeSpan commandTimeout, CancellationToken cancellationToken, ActivityCounter? activity = null)
    {
        Socket socket = await ConnectSocketAsync(endpoint, commandTimeout, cancellationToken);
        activity?.Add();
        var connection = new SmtpConnection(socket, endpoint, commandTimeout, activity);
        try
        {
            connection.Greeting = await connection.ReadReplyAsync(SmtpStage.Greeting, commandTimeout, cancellationToken);
            if (!connection.Greeting.IsServiceReady)
            {
                throw new SmtpSessionException(SmtpStage.Greeting, $"greeting refused: {connection.Greeting.OneLine}", connection.Greeting);
            }
            await connection.HelloAsync(heloName, cancellationToken);
            await connection.NegotiateTlsAsync(heloName, tls, cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Whether anything accepts TCP connections at <paramref name="endpoint"/> now. Not a probe:
    /// no SMTP is spoken, the connection is closed at once. While a primary refuses connections
    /// outright this costs it nothing, so it can run every few seconds during a long outage and
    /// let the real probe (rate-limited) follow the moment the port opens.
    /// </summary>
    public static async Task<bool> AcceptsConnectionsAsync(HostPort endpoint, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            using Socket socket = await ConnectSocketAsync(endpoint, timeout, cancellationToken);
            return true;
        }
        catch (SmtpSessionException)
        {
            return false;
        }
    }

    private static async Task<Socket> ConnectSocketAsync(HostPort endpoint, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        IPAddress[] addresses;
        try
        {
            addresses = await HostResolver.Current.ResolveAsync(endpoint.Host, cts.Token);
        }
        catch (Exception e) when (e is SocketException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new SmtpSessionException(SmtpStage.Connect, $"cannot resolve {endpoint.Host}: {e.Message}", null, e);
        }
        Exception? last = null;
        foreach (IPAddress address in addresses)
        {
            // Note: Nagle off. With it on, each pipelined command group waits for the peer's
            // delayed ACK (about 40 ms a message on loopback).
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endpoint.Port), cts.Token);
                return socket;
            }
            catch (Exception e) when (e is SocketException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                socket.Dispose();
                last = e;
            }
        }
        string why = last is OperationCanceledException ? $"no answer within {timeout.TotalSeconds:0.#}s" : last?.Message ?? "no address";
        throw new SmtpSessionException(SmtpStage.Connect, $"cannot connect to {endpoint}: {why}", null, last);
    }

    private async Task HelloAsync(string heloName, CancellationToken cancellationToken)
    {
        SmtpReply ehlo = await CommandAsync(SmtpStage.Ehlo, $"EHLO {heloName}", cancellationToken);
        if (ehlo.IsOk)
        {
            Capabilities = SmtpCapabilities.FromEhlo(ehlo);
            return;
        }
        if (ehlo.IsTransient || ehlo.Code == 554)
        {
            throw new SmtpSessionException(SmtpStage.Ehlo, $"EHLO refused: {ehlo.OneLine}", ehlo);
        }
        // Note: a server from before RFC 1869 answers 500/502 to EHLO; HELO gets a plain session.
        SmtpReply helo = await CommandAsync(SmtpStage.Ehlo, $"HELO {heloName}", cancellationToken);
        if (!helo.IsOk)
        {
            throw new SmtpSessionException(SmtpStage.Ehlo, $"HELO refused: {helo.OneLine}", helo);
        }
        Capabilities = SmtpCapabilities.None;
    }

    private async Task NegotiateTlsAsync(string heloName, TlsPolicy tls, CancellationToken cancellationToken)
    {
        if (tls == TlsPolicy.None)
        {
            return;
        }
        if (!Capabilities.StartTls)
        {
            if (tls is TlsPolicy.Require or TlsPolicy.Verify)
            {
                // Note: not transient from our side, but the primary's admin may fix it at any
                // moment: the session fails, nothing is sent, the probe reports why.
                throw new SmtpSessionException(SmtpStage.StartTls, "the tenant's policy requires TLS and the primary does not offer STARTTLS");
            }
            return;
        }
        SmtpReply reply = await CommandAsync(SmtpStage.StartTls, "STARTTLS", cancellationToken);
        if (!reply.IsServiceReady)
        {
            if (tls == TlsPolicy.Opportunistic && reply.IsPermanent)
            {
                return;
            }
            throw new SmtpSessionException(SmtpStage.StartTls, $"STARTTLS refused: {reply.OneLine}", reply);
        }
        var ssl = new SslStream(_stream, leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = Endpoint.Host,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            // Note: opportunistic and "require" accept any certificate (RFC 7435: encryption
            // without authentication beats plain text); "verify" demands a valid chain and name.
#pragma warning disable CA5359 // Opportunistic TLS (RFC 7435) is the documented policy, "verify" checks.
            RemoteCertificateValidationCallback = tls == TlsPolicy.Verify
                ? (_, _, _, errors) => errors == SslPolicyErrors.None
                : (_, _, _, _) => true,
#pragma warning restore CA5359
        };
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(CommandTimeout);
        try
        {
            await ssl.AuthenticateAsClientAsync(options, cts.Token);
        }
        catch (Exception e) when (e is AuthenticationException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            await ssl.DisposeAsync();
            throw new SmtpSessionException(SmtpStage.StartTls, $"TLS handshake failed: {e.Message}", null, e);
        }
        _stream = ssl;
        _inputStart = _inputEnd = 0;
        // RFC 3207 §4.2: forget what was said before TLS and ask again.
        await HelloAsync(heloName, cancellationToken);
    }

    /// <summary>
    /// Arms the connection's scope for one step: cancelled when <paramref name="timeout"/> passes
    /// or <paramref name="cancellationToken"/> is cancelled, whichever comes first. Dispose the
    /// returned registration when the step ends. Steps never overlap: one caller at a time.
    /// </summary>
    private CancellationTokenRegistration Step(SmtpStage stage, TimeSpan timeout, CancellationToken cancellationToken, out CancellationToken step)
    {
        ThrowIfClosed(stage);
        return Arm(ref _step, timeout, cancellationToken, out step);
    }

    /// <summary>A step on a disposed connection fails as a lost session would, not with the source's ObjectDisposedException.</summary>
    private void ThrowIfClosed(SmtpStage stage)
    {
        if (_disposed)
        {
            throw new SmtpSessionException(stage, "the connection was closed");
        }
    }

    /// <summary>
    /// The deadline of one message on this connection (<c>MessageDeadline</c>): cancelled when
    /// <paramref name="allowed"/> passes or <paramref name="cancellationToken"/> is cancelled.
    /// Like the steps', its source is the connection's and is re-armed for the next message:
    /// dispose the returned registration when the message is settled.
    /// </summary>
    public CancellationTokenRegistration MessageScope(TimeSpan allowed, CancellationToken cancellationToken, out CancellationToken deadline)
    {
        ThrowIfClosed(SmtpStage.MailFrom);
        return Arm(ref _message, allowed, cancellationToken, out deadline);
    }

    private static CancellationTokenRegistration Arm(ref CancellationTokenSource scope, TimeSpan timeout, CancellationToken cancellationToken, out CancellationToken token)
    {
        // Note: TryReset stops the timer and keeps the source unless it fired; only then is it replaced.
        if (!scope.TryReset())
        {
            scope.Dispose();
            scope = new CancellationTokenSource();
        }
        CancellationTokenSource source = scope;
        source.CancelAfter(timeout);
        token = source.Token;
        return cancellationToken.UnsafeRegister(static s => CancelQuietly((CancellationTokenSource)s!), source);
    }

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Note: the connection was disposed under the step; the step fails on its own.
        }
    }

    /// <summary>Bounds the kernel's send buffer (SO_SNDBUF), which would otherwise grow to megabytes (see <c>MessageDeadline.SendBuffer</c>).</summary>
    public void LimitSendBuffer(int bytes) => _socket.SendBufferSize = bytes;

    /// <summary>Sends one command line and reads its reply.</summary>
    public async Task<SmtpReply> CommandAsync(SmtpStage stage, string line, CancellationToken cancellationToken)
    {
        Write(line);
        await FlushAsync(stage, cancellationToken);
        return await ReadReplyAsync(stage, CommandTimeout, cancellationToken);
    }

    /// <summary>Queues a command line (CRLF added) without sending it: pipelining (RFC 2920).</summary>
    public void Write(string line)
    {
        if (line.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            throw new ArgumentException("an SMTP command line must not contain CR or LF", nameof(line));
        }
        int count = Encoding.UTF8.GetByteCount(line) + 2;
        EnsureRoom(count);
        _outputLength += Encoding.UTF8.GetBytes(line, _output.AsSpan(_outputLength));
        _output[_outputLength++] = (byte)'\r';
        _output[_outputLength++] = (byte)'\n';
    }

    /// <summary>Queues a command line behind whatever is queued (message data, say), sending that first if the line would not fit.</summary>
    public async ValueTask WriteLineAsync(string line, SmtpStage stage, CancellationToken cancellationToken)
    {
        if (_outputLength + Encoding.UTF8.GetByteCount(line) + 2 > OutputBufferSize)
        {
            await FlushAsync(stage, cancellationToken);
        }
        Write(line);
    }

    /// <summary>Queues raw bytes (message data already encoded for the wire).</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, SmtpStage stage, CancellationToken cancellationToken)
    {
        while (bytes.Length > 0)
        {
            if (_outputLength == OutputBufferSize)
            {
                await FlushAsync(stage, cancellationToken);
            }
            int n = Math.Min(bytes.Length, OutputBufferSize - _outputLength);
            bytes.Span[..n].CopyTo(_output.AsSpan(_outputLength));
            _outputLength += n;
            bytes = bytes[n..];
        }
    }

    private void EnsureRoom(int count)
    {
        if (_outputLength + count > OutputBufferSize)
        {
            throw new InvalidOperationException("SMTP output buffer full: flush before queueing more commands");
        }
    }

    /// <summary>
    /// Sends everything queued. A peer that takes nothing for longer than the command timeout
    /// fails the stage; one that reads slowly but steadily does not (each 16 KiB slice has the
    /// whole timeout, and each counts as <see cref="Activity"/>). How long a whole message may
    /// take is the caller's deadline (<c>MessageDeadline</c>), given as <paramref name="cancellationToken"/>.
    /// </summary>
    public async Task FlushAsync(SmtpStage stage, CancellationToken cancellationToken)
    {
        if (_outputLength == 0)
        {
            return;
        }
        try
        {
            for (int done = 0; done < _outputLength; done += WriteSlice)
            {
                using (Step(stage, CommandTimeout, cancellationToken, out CancellationToken step))
                {
                    await _stream.WriteAsync(_output.AsMemory(done, Math.Min(WriteSlice, _outputLength - done)), step);
                }
                Activity.Add();
            }
            _outputLength = 0;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            _outputLength = 0;
            string why = e is OperationCanceledException ? $"the primary stopped reading for {CommandTimeout.TotalSeconds:0.#}s" : e.Message;
            throw new SmtpSessionException(stage, $"connection lost while sending: {why}", null, e);
        }
    }

    /// <summary>Reads one reply (all its lines). Timeouts and dropped connections raise <see cref="SmtpSessionException"/>.</summary>
    public async Task<SmtpReply> ReadReplyAsync(SmtpStage stage, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using CancellationTokenRegistration link = Step(stage, timeout, cancellationToken, out CancellationToken step);
        var text = new StringBuilder();
        int code = -1;
        int total = 0;
        while (true)
        {
            string line;
            try
            {
                line = await ReadLineAsync(step);
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                string why = e is OperationCanceledException ? $"no reply within {timeout.TotalSeconds:0.#}s" : e.Message;
                throw new SmtpSessionException(stage, $"connection lost waiting for a reply: {why}", null, e);
            }
            total += line.Length;
            if (line.Length < 3 || !int.TryParse(line.AsSpan(0, 3), NumberStyles.None, CultureInfo.InvariantCulture, out int lineCode)
                || lineCode is < 200 or > 599 || (line.Length > 3 && line[3] is not (' ' or '-')))
            {
                throw new SmtpSessionException(stage, $"not an SMTP reply: \"{Printable(line)}\"");
            }
            if (code == -1)
            {
                code = lineCode;
            }
            if (total > MaxReplyBytes)
            {
                throw new SmtpSessionException(stage, "reply longer than 64 KiB");
            }
            text.Append(line).Append('\n');
            if (line.Length == 3 || line[3] == ' ')
            {
                return new SmtpReply(code, text.ToString(0, text.Length - 1));
            }
        }
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            int lf = Array.IndexOf(_input, (byte)'\n', _inputStart, _inputEnd - _inputStart);
            if (lf >= 0)
            {
                int end = lf > _inputStart && _input[lf - 1] == (byte)'\r' ? lf - 1 : lf;
                // Note: replies may carry UTF-8 (RFC 6531); invalid bytes become U+FFFD, never an exception.
                string line = Encoding.UTF8.GetString(_input, _inputStart, end - _inputStart);
                _inputStart = lf + 1;
                return line;
            }
            if (_inputStart > 0)
            {
                Buffer.BlockCopy(_input, _inputStart, _input, 0, _inputEnd - _inputStart);
                _inputEnd -= _inputStart;
                _inputStart = 0;
            }
            if (_inputEnd == _input.Length)
            {
                throw new IOException("reply line longer than 8 KiB");
            }
            int n = await _stream.ReadAsync(_input.AsMemory(_inputEnd), cancellationToken);
            if (n == 0)
            {
                throw new IOException("the primary closed the connection");
            }
            Activity.Add();
            _inputEnd += n;
        }
    }

    private static string Printable(string s) =>
        new(s.Take(80).Select(c => char.IsControl(c) ? '?' : c).ToArray());

    /// <summary>Says QUIT and waits briefly for the goodbye; a server that is gone already is fine.</summary>
    public async Task QuitAsync(CancellationToken cancellationToken)
    {
        try
        {
            Write("QUIT");
            await FlushAsync(SmtpStage.Quit, cancellationToken);
            await ReadReplyAsync(SmtpStage.Quit, TimeSpan.FromSeconds(Math.Min(5, CommandTimeout.TotalSeconds)), cancellationToken);
        }
        catch (SmtpSessionException)
        {
            // Note: QUIT is a courtesy; every message's fate was settled before it.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        await _stream.DisposeAsync();
        _socket.Dispose();
        _step.Dispose();
        _message.Dispose();
        ArrayPool<byte>.Shared.Return(_output);
    }
}
