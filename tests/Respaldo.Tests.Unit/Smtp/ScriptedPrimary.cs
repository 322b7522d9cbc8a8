using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Respaldo.Tests.Smtp;

/// <summary>
/// A scripted SMTP server on the loopback for classification tests, in the manner of
/// MailKit's replayed conversations and SmtpServer's loopback tests: it answers each command
/// with what the test says and records what it received, byte for byte.
/// </summary>
public sealed class ScriptedPrimary : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _sessions;
    private int _mostSessions;

    public ScriptedPrimary()
    {
        _listener.Start();
        _loop = Task.Run(AcceptLoopAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string Greeting { get; set; } = "220 primary.test ESMTP";

    public List<string> Extensions { get; } = ["PIPELINING", "SIZE 10485760", "8BITMIME", "SMTPUTF8"];

    /// <summary>
    /// Reply to a command line (MAIL/RCPT/DATA/BDAT/RSET...); null means the default 250 (354
    /// for DATA). "DROP" closes the connection; to a BDAT, it closes after reading half its chunk.
    /// A BDAT's reply is given after its chunk was read (RFC 3030 §2).
    /// </summary>
    public Func<string, string?> OnCommand { get; set; } = _ => null;

    /// <summary>Reply to the end of data (the lone dot, or the whole of a BDAT LAST chunk); null means close the connection without a reply.</summary>
    public Func<byte[], string?> OnMessage { get; set; } = _ => "250 2.0.0 Ok: queued as ABC123";

    /// <summary>Stay silent this long before answering the end of data.</summary>
    public TimeSpan StallAfterData { get; set; } = TimeSpan.Zero;

    public List<string> Commands { get; } = [];

    /// <summary>Fill <see cref="PipelinedAfterData"/> (50 ms more per message).</summary>
    public bool WatchPipelining { get; set; }

    /// <summary>For each end of data (in order): whether the client's next command was already there before the reply to it went, i.e. sent in the same group (RFC 2920 §3.1).</summary>
    public List<bool> PipelinedAfterData { get; } = [];

    /// <summary>The most sessions that were open at once.</summary>
    public int MostSessionsAtOnce => Volatile.Read(ref _mostSessions);

    /// <summary>Each message's content as the primary would store it: DATA's as sent (dot-stuffing kept), BDAT's chunks joined.</summary>
    public List<byte[]> Messages { get; } = [];

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        int open = Interlocked.Increment(ref _sessions);
        for (int most = Volatile.Read(ref _mostSessions); open > most; most = Volatile.Read(ref _mostSessions))
        {
            Interlocked.CompareExchange(ref _mostSessions, open, most);
        }
        int ended = 0;
        // Note: a session stops counting at its QUIT, before the 221: a client that opens its next
        // connection once the 221 came must never find the old one still counted.
        void End()
        {
            if (Interlocked.Exchange(ref ended, 1) == 0)
            {
                Interlocked.Decrement(ref _sessions);
            }
        }
        try
        {
            await ServeOneAsync(client, End);
        }
        finally
        {
            End();
        }
    }

    private async Task ServeOneAsync(TcpClient client, Action quitting)
    {
        using (client)
        {
            client.NoDelay = true;
            NetworkStream stream = client.GetStream();
            var reader = new LineReader(stream);
            async Task Say(string reply) => await stream.WriteAsync(Encoding.UTF8.GetBytes(reply.Replace("\n", "\r\n", StringComparison.Ordinal) + "\r\n"));
            try
            {
                await Say(Greeting);
                if (!Greeting.StartsWith("220", StringComparison.Ordinal))
                {
                    return;
                }
                bool mailOk = false, rcptOk = false;
                var chunks = new MemoryStream();
                while (await reader.ReadLineAsync() is { } line)
                {
                    lock (Commands)
                    {
                        Commands.Add(line);
                    }
                    string verb = line.Split(' ')[0].ToUpperInvariant();
                    if (verb is "EHLO")
                    {
                        await Say(string.Join("\n", new[] { "250-primary.test" }.Concat(Extensions.Select((e, i) => (i == Extensions.Count - 1 ? "250 " : "250-") + e))).Replace("250-primary.test\n", Extensions.Count == 0 ? "250 primary.test" : "250-primary.test\n", StringComparison.Ordinal));
                        continue;
                    }
                    if (verb == "QUIT")
                    {
                        quitting();
                        await Say("221 Bye");
                        return;
                    }
                    string? scripted = OnCommand(line);
                    if (scripted == "DROP" && verb != "BDAT")
                    {
                        return;
                    }
                    // Behave like a real server: DATA without an accepted sender and recipient is refused.
                    if (verb == "MAIL")
                    {
                        mailOk = scripted is null || scripted.StartsWith('2');
                    }
                    else if (verb == "RCPT")
                    {
                        rcptOk |= mailOk && (scripted is null || scripted.StartsWith('2'));
                    }
                    else if (verb == "RSET")
                    {
                        mailOk = rcptOk = false;
                        chunks.SetLength(0);
                    }
                    else if (verb == "BDAT")
                    {
                        string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                        int size = int.Parse(words[1], System.Globalization.CultureInfo.InvariantCulture);
                        bool last = words.Length > 2 && words[2].Equals("LAST", StringComparison.OrdinalIgnoreCase);
                        if (scripted == "DROP")
                        {
                            await reader.ReadExactAsync(size / 2);
                            return;
                        }
                        chunks.Write(await reader.ReadExactAsync(size));
                        if (scripted is null && !rcptOk)
                        {
                            scripted = "554 5.5.1 Error: no valid recipients";
                        }
                        if (scripted is not null)
                        {
                            chunks.SetLength(0);
                            await Say(scripted);
                            if (scripted.StartsWith("421", StringComparison.Ordinal))
                            {
                                return;
                            }
                            continue;
                        }
                        if (!last)
                        {
                            await Say($"250 2.0.0 Ok: {size} octets");
                            continue;
                        }
                        byte[] content = chunks.ToArray();
                        chunks.SetLength(0);
                        lock (Messages)
                        {
                            Messages.Add(content);
                        }
                        await NotePipeliningAsync(reader, stream);
                        if (StallAfterData > TimeSpan.Zero)
                        {
                            await Task.Delay(StallAfterData);
                        }
                        string? answer = OnMessage(content);
                        if (answer is null)
                        {
                            return;
                        }
                        await Say(answer);
                        if (answer.StartsWith("421", StringComparison.Ordinal))
                        {
                            return;
                        }
                        mailOk = rcptOk = false;
                        continue;
                    }
                    else if (verb == "DATA" && scripted is null && !rcptOk)
                    {
                        scripted = "554 5.5.1 Error: no valid recipients";
                    }
                    if (scripted?.StartsWith("421", StringComparison.Ordinal) == true)
                    {
                        await Say(scripted);
                        return;
                    }
                    if (verb == "DATA" && (scripted is null || scripted.StartsWith("354", StringComparison.Ordinal)))
                    {
                        await Say(scripted ?? "354 End data with <CR><LF>.<CR><LF>");
                        // Note: a connection closed before the lone dot is no message (a real server discards it).
                        if (await reader.ReadDataAsync() is not { } data)
                        {
                            return;
                        }
                        lock (Messages)
                        {
                            Messages.Add(data);
                        }
                        await NotePipeliningAsync(reader, stream);
                        if (StallAfterData > TimeSpan.Zero)
                        {
                            await Task.Delay(StallAfterData);
                        }
                        string? final = OnMessage(data);
                        if (final is null)
                        {
                            return;
                        }
                        await Say(final);
                        if (final.StartsWith("421", StringComparison.Ordinal))
                        {
                            return;
                        }
                        mailOk = rcptOk = false;
                        continue;
                    }
                    await Say(scripted ?? "250 2.0.0 Ok");
                }
            }
            catch (IOException)
            {
                // The client went away.
            }
        }
    }

    private async Task NotePipeliningAsync(LineReader reader, NetworkStream stream)
    {
        if (!WatchPipelining)
        {
            return;
        }
        // Note: a client that waits for the reply sends nothing in 50 ms; one that pipelined has.
        await Task.Delay(50);
        lock (PipelinedAfterData)
        {
            PipelinedAfterData.Add(reader.Buffered > 0 || stream.DataAvailable);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        _stop.Dispose();
    }

    /// <summary>Reads CRLF lines and raw DATA (up to the lone dot, dot-stuffing kept as sent).</summary>
    private sealed class LineReader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[65536];
        private int _start;
        private int _end;

        public int Buffered => _end - _start;

        private async Task<bool> FillAsync()
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            int n = await stream.ReadAsync(_buffer.AsMemory(_end));
            _end += n;
            return n > 0;
        }

        public async Task<string?> ReadLineAsync()
        {
            byte[]? line = await ReadRawLineAsync();
            return line is null ? null : Encoding.UTF8.GetString(line).TrimEnd('\r', '\n');
        }

        private async Task<byte[]?> ReadRawLineAsync()
        {
            while (true)
            {
                int lf = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                if (lf >= 0)
                {
                    byte[] line = _buffer[_start..(lf + 1)];
                    _start = lf + 1;
                    return line;
                }
                if (!await FillAsync())
                {
                    return null;
                }
            }
        }

        public async Task<byte[]> ReadExactAsync(int count)
        {
            var data = new byte[count];
            int done = 0;
            while (done < count)
            {
                if (_start == _end && !await FillAsync())
                {
                    throw new IOException("the client closed the connection inside a BDAT chunk");
                }
                int n = Math.Min(count - done, _end - _start);
                Buffer.BlockCopy(_buffer, _start, data, done, n);
                _start += n;
                done += n;
            }
            return data;
        }

        public async Task<byte[]?> ReadDataAsync()
        {
            var data = new MemoryStream();
            while (await ReadRawLineAsync() is { } line)
            {
                if (line.AsSpan().SequenceEqual(".\r\n"u8))
                {
                    return data.ToArray();
                }
                data.Write(line);
            }
            return null;
        }
    }
}
