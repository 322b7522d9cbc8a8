using System.Net.Sockets;
using System.Text;

namespace Respaldo.Tests.Faults;

/// <summary>
/// One connection through the faulty primary. Two loops: the client loop reads the
/// controller's commands and data and forwards them (or not) to the real primary; the reply
/// loop reads the primary's replies. Replies reach the client in the order of its commands,
/// whether they come from the primary or are made up here, through a queue of slots.
/// </summary>
#pragma warning disable CA1001 // Its semaphore and token source hold no OS handle; both loops may still touch them as the session ends.
internal sealed class ProxySession
#pragma warning restore CA1001
{
    private static readonly TimeSpan UpstreamConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>A stalled session is cut after this, whatever the client does (no test waits that long).</summary>
    private static readonly TimeSpan StallLimit = TimeSpan.FromMinutes(5);

    private readonly FaultyPrimary _owner;
    private readonly int _id;
    private readonly Socket _client;
    private FaultPlan _plan;
    private bool _forced;
    private string? _forcedSender;
    private readonly CancellationTokenSource _cts;
    private readonly Random _random;
    private readonly object _gate = new();
    private readonly Queue<Slot> _slots = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private Socket? _upstream;
    private int _generation;
    private bool _triggered;
    private volatile bool _stalled;
    private volatile bool _closing;
    private int _closed;
    private int _transaction = -1;
    private string _sender = "";
    private string _recipient = "";
    private byte[]? _ehlo;
    private DateTime _trickleUntil = DateTime.MinValue;
    private (System.Diagnostics.Stopwatch Clock, long Sent)? _throttle;
    private (string Sender, string Recipient, Slot Slot)? _awaitingFinal;

    public ProxySession(FaultyPrimary owner, int id, Socket client, FaultPlan plan, bool forced, CancellationToken stopping)
    {
        _owner = owner;
        _id = id;
        _client = client;
        _plan = plan;
        _forced = forced;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        _random = new Random(HashCode.Combine(owner.Seed, id));
    }

    private sealed class Slot
    {
        public byte[]? Text;
        public bool Ready;
        public bool Synthetic;
        public bool CloseAfter;
        public bool IsEhlo;
        public bool IsGreeting;
        public TaskCompletionSource<int>? DataReply;
        public FaultPlan? Withhold;
        public int Generation;
    }

    public async Task RunAsync()
    {
        try
        {
            await RunCoreAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Either side went away: the session is over.
        }
        finally
        {
            await CloseAsync().ConfigureAwait(false);
        }
    }

    private async Task RunCoreAsync()
    {
        CancellationToken ct = _cts.Token;
        switch (_plan.Kind)
        {
            case FaultKind.SilentAccept:
                Took();
                await DrainAsync(_client, ct).ConfigureAwait(false);
                return;
            case FaultKind.DropBeforeGreeting:
                Took();
                return;
            case FaultKind.Greet421:
                Took();
                await WriteClientAsync("421 4.3.2 mail.suempresa.test Service not available, closing transmission channel (faulty primary)\r\n"u8.ToArray(), ct).ConfigureAwait(false);
                return;
            case FaultKind.Greet554:
                Took();
                await NoServiceAsync(ct).ConfigureAwait(false);
                return;
            case FaultKind.Trickle:
                Took();
                _trickleUntil = DateTime.UtcNow + _plan.TrickleFor;
                break;
        }

        Socket upstream = await ConnectUpstreamAsync(ct).ConfigureAwait(false);
        var reader = new ReplyReader(upstream);
        Enqueue(new Slot { IsGreeting = true, Generation = _generation });
        _ = Task.Run(() => ReplyLoopAsync(reader, _generation, ct), CancellationToken.None);
        await ClientLoopAsync(ct).ConfigureAwait(false);
    }

    /// <summary>A 554 greeting, then 503 to everything until QUIT (RFC 5321 §3.1).</summary>
    private async Task NoServiceAsync(CancellationToken ct)
    {
        await WriteClientAsync("554 5.3.2 mail.suempresa.test No SMTP service here (faulty primary)\r\n"u8.ToArray(), ct).ConfigureAwait(false);
        var input = new LineReader(_client);
        while (await input.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
        {
            if (Verb(line) == "QUIT")
            {
                await WriteClientAsync("221 2.0.0 Bye\r\n"u8.ToArray(), ct).ConfigureAwait(false);
                return;
            }
            await WriteClientAsync("503 5.5.1 Error: no SMTP service here\r\n"u8.ToArray(), ct).ConfigureAwait(false);
        }
    }

    private async Task<Socket> ConnectUpstreamAsync(CancellationToken ct)
    {
        var socket = new Socket(_owner.Upstream.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(UpstreamConnectTimeout);
        try
        {
            await socket.ConnectAsync(_owner.Upstream, timeout.Token).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        _upstream = socket;
        return socket;
    }

    private async Task ClientLoopAsync(CancellationToken ct)
    {
        var input = new LineReader(_client);
        while (true)
        {
            byte[]? line = await input.ReadLineAsync(ct).ConfigureAwait(false);
            if (line is null)
            {
                return;
            }
            if (_stalled || _closing)
            {
                // Nothing more reaches the primary: stalled, or a made-up 421 is on its way.
                continue;
            }
            string verb = Verb(line);
            switch (verb)
            {
                case "EHLO" or "HELO":
                    _ehlo = line;
                    await ForwardAsync(line, new Slot { IsEhlo = verb == "EHLO" }, ct).ConfigureAwait(false);
                    break;
                case "MAIL":
                    _transaction++;
                    _sender = Address(line);
                    // Note: a session whose fault already struck (a 451 at MAIL leaves it open) carries
                    // on with more messages; a forced fault for one of them must still find it, or it
                    // waits for a session that never comes (the hand-over keeps its connections).
                    if ((_plan.Kind == FaultKind.None || _triggered) && _owner.ClaimForMail(_sender) is { } claimed)
                    {
                        // A forced fault in a transaction goes to this message.
                        _plan = claimed.Plan with { Transaction = _transaction };
                        _forcedSender = claimed.Sender;
                        _forced = true;
                        _triggered = false;
                    }
                    _recipient = "";
                    if (!await CommandFaultAsync(FaultPoint.Mail, line, ct).ConfigureAwait(false))
                    {
                        await ForwardAsync(line, new Slot(), ct).ConfigureAwait(false);
                    }
                    break;
                case "RCPT":
                    _recipient = Address(line);
                    if (!await CommandFaultAsync(FaultPoint.Rcpt, line, ct).ConfigureAwait(false))
                    {
                        await ForwardAsync(line, new Slot(), ct).ConfigureAwait(false);
                    }
                    break;
                case "DATA":
                    var reply = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
                    await ForwardAsync(line, new Slot { DataReply = reply }, ct).ConfigureAwait(false);
                    int code = await reply.Task.WaitAsync(ct).ConfigureAwait(false);
                    if (code == 354 && !_stalled)
                    {
                        await DataAsync(input, ct).ConfigureAwait(false);
                        _throttle = null;
                    }
                    break;
                default:
                    await ForwardAsync(line, new Slot(), ct).ConfigureAwait(false);
                    break;
            }
            if (Volatile.Read(ref _closed) != 0)
            {
                return;
            }
        }
    }

    /// <summary>Applies a fault planned for MAIL or RCPT; true when the command must not be forwarded as usual.</summary>
    private async Task<bool> CommandFaultAsync(FaultPoint point, byte[] line, CancellationToken ct)
    {
        if (!Fires(point))
        {
            return false;
        }
        if (_plan.Kind is FaultKind.DropAfterMail or FaultKind.DropAfterRcpt or FaultKind.Stall)
        {
            // Note: the fault strikes at this command, so every reply owed for an earlier one
            // (with pipelining across messages, the previous message's reply to its final dot)
            // reaches the client first, as a real server that answered them and then broke would.
            await WaitForEarlierRepliesAsync(ct).ConfigureAwait(false);
        }
        switch (_plan.Kind)
        {
            case FaultKind.DropAfterMail or FaultKind.DropAfterRcpt:
                Took();
                // Note: silenced first: the primary's reply to this command has no slot, and would
                // otherwise reach the client as an unsolicited line before the cut.
                _stalled = true;
                await WriteUpstreamAsync(line, ct).ConfigureAwait(false);
                Cut($"dropped after {point}");
                return true;
            case FaultKind.Stall:
                Took();
                // Note: stalled before the command goes on, so that no reply of the primary's slips through.
                Stall();
                await WriteUpstreamAsync(line, ct).ConfigureAwait(false);
                return true;
            case FaultKind.TransientReply:
                Took();
                _closing = _plan.Code == 421;
                Enqueue(Synthetic(_plan.Code, point));
                await PumpAsync(ct).ConfigureAwait(false);
                return true;
        }
        return false;
    }

    /// <summary>Waits until every queued reply has been written to the client; a session that ends meanwhile ends the wait with it.</summary>
    private async Task WaitForEarlierRepliesAsync(CancellationToken ct)
    {
        while (true)
        {
            if (Volatile.Read(ref _closed) != 0)
            {
                throw new OperationCanceledException("the session ended before its fault's turn");
            }
            lock (_gate)
            {
                if (_slots.Count == 0)
                {
                    return;
                }
            }
            await Task.Delay(5, ct).ConfigureAwait(false);
        }
    }

    /// <summary>The message data after a 354, up to and including the end-of-data line (RFC 5321 §4.5.2).</summary>
    private async Task DataAsync(LineReader input, CancellationToken ct)
    {
        long forwarded = 0;
        // Note: the data starts at a line start, so ".\r\n" right away ends an empty message.
        var end = new EndOfDataMatcher();
        bool midData = Fires(FaultPoint.MidData);
        bool atEnd = Fires(FaultPoint.EndOfData);
        if (_plan.Kind == FaultKind.Throttle && !_triggered && _transaction == _plan.Transaction)
        {
            Took();
            _throttle = (System.Diagnostics.Stopwatch.StartNew(), 0);
        }
        while (true)
        {
            ReadOnlyMemory<byte> chunk = await input.ReadChunkAsync(ct).ConfigureAwait(false);
            if (chunk.IsEmpty)
            {
                return;
            }
            int finished = end.Scan(chunk.Span);
            int content = finished < 0 ? chunk.Length : Math.Max(0, finished - 3);
            if (midData && forwarded + content >= _plan.DataBytes || midData && finished >= 0)
            {
                // Cut inside the data: the primary never sees the final dot.
                int take = (int)Math.Clamp(_plan.DataBytes - forwarded, 0, Math.Max(content, 0));
                await WriteUpstreamAsync(chunk[..take], ct).ConfigureAwait(false);
                Took();
                if (_plan.Kind == FaultKind.Stall)
                {
                    Stall();
                }
                else
                {
                    Cut("dropped in the middle of the data");
                }
                return;
            }
            if (finished < 0)
            {
                await WriteUpstreamAsync(chunk, ct).ConfigureAwait(false);
                forwarded += chunk.Length;
                continue;
            }
            input.PushBack(chunk[finished..]);
            if (atEnd && _plan.Kind == FaultKind.TransientReply)
            {
                // Everything but the final dot: the primary's transaction stays open, then is abandoned.
                await WriteUpstreamAsync(chunk[..content], ct).ConfigureAwait(false);
                Took();
                _closing = _plan.Code == 421;
                Enqueue(Synthetic(_plan.Code, FaultPoint.EndOfData));
                await PumpAsync(ct).ConfigureAwait(false);
                if (_plan.Code != 421)
                {
                    await RestartUpstreamAsync(ct).ConfigureAwait(false);
                }
                return;
            }
            var final = new Slot { Withhold = atEnd ? _plan : null };
            lock (_gate)
            {
                _awaitingFinal = (_sender, _recipient, final);
            }
            await ForwardAsync(chunk[..finished], final, ct).ConfigureAwait(false);
            return;
        }
    }

    /// <summary>After a made-up reply to the end of data, a fresh session with the primary (the old one is mid-DATA).</summary>
    private async Task RestartUpstreamAsync(CancellationToken ct)
    {
        int generation;
        lock (_gate)
        {
            generation = ++_generation;
        }
        _upstream?.Dispose();
        Socket upstream = await ConnectUpstreamAsync(ct).ConfigureAwait(false);
        var reader = new ReplyReader(upstream);
        await reader.ReadReplyAsync(ct).ConfigureAwait(false);
        if (_ehlo is not null)
        {
            await upstream.SendAsync(_ehlo, SocketFlags.None, ct).ConfigureAwait(false);
            await reader.ReadReplyAsync(ct).ConfigureAwait(false);
        }
        _ = Task.Run(() => ReplyLoopAsync(reader, generation, ct), CancellationToken.None);
    }

    private async Task ReplyLoopAsync(ReplyReader reader, int generation, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                byte[]? reply = await reader.ReadReplyAsync(ct).ConfigureAwait(false);
                if (reply is null || generation != Volatile.Read(ref _generation))
                {
                    break;
                }
                if (_stalled)
                {
                    continue;
                }
                Slot? slot;
                lock (_gate)
                {
                    slot = _slots.FirstOrDefault(s => !s.Synthetic && !s.Ready && s.Generation == generation);
                    if (slot is not null && slot.Withhold is null)
                    {
                        slot.Text = slot.IsEhlo ? WithoutHiddenExtensions(reply) : reply;
                        slot.Ready = true;
                    }
                }
                if (slot is null)
                {
                    // Unsolicited (a 421 before closing): pass it on after what is queued.
                    Enqueue(new Slot { Text = reply, Ready = true, Synthetic = true });
                    await PumpAsync(ct).ConfigureAwait(false);
                    continue;
                }
                if (slot.Withhold is { } fault)
                {
                    string text = Encoding.UTF8.GetString(reply).TrimEnd();
                    (string Sender, string Recipient) owner;
                    lock (_gate)
                    {
                        // Note: the transaction the withheld reply ends, as recorded at its final
                        // dot: with pipelining across messages (RFC 2920 §3.1) the next message's
                        // MAIL and RCPT have already come and changed _sender and _recipient.
                        owner = _awaitingFinal is { } f && ReferenceEquals(f.Slot, slot) ? (f.Sender, f.Recipient) : (_sender, _recipient);
                        _awaitingFinal = null;
                    }
                    _owner.Ledger.AmbiguousDelivery(new AmbiguousDelivery(owner.Sender, owner.Recipient, text, fault.Label));
                    Took();
                    if (fault.Kind == FaultKind.Stall)
                    {
                        Stall();
                    }
                    else
                    {
                        Cut("dropped after the final dot, before the reply");
                    }
                    continue;
                }
                if (slot.DataReply is { } data)
                {
                    // Note: DATA's reply is queued before the client loop goes on, so 354 precedes any data.
                    await PumpAsync(ct).ConfigureAwait(false);
                    data.TrySetResult(Code(reply));
                    continue;
                }
                await PumpAsync(ct).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
        if (generation == Volatile.Read(ref _generation) && !_stalled)
        {
            // The primary closed (after QUIT, or on its own): so does the client's side.
            await CloseAsync().ConfigureAwait(false);
        }
    }

    private async Task ForwardAsync(ReadOnlyMemory<byte> bytes, Slot slot, CancellationToken ct)
    {
        lock (_gate)
        {
            slot.Generation = _generation;
        }
        Enqueue(slot);
        await WriteUpstreamAsync(bytes, ct).ConfigureAwait(false);
    }

    private void Enqueue(Slot slot)
    {
        lock (_gate)
        {
            _slots.Enqueue(slot);
        }
    }

    /// <summary>Writes every reply at the head of the queue that is ready, in command order.</summary>
    private async Task PumpAsync(CancellationToken ct)
    {
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            while (true)
            {
                Slot? slot;
                lock (_gate)
                {
                    slot = _slots.Count > 0 && _slots.Peek().Ready ? _slots.Dequeue() : null;
                }
                if (slot is null || _stalled)
                {
                    return;
                }
                await WriteClientAsync(slot.Text!, ct).ConfigureAwait(false);
                lock (_gate)
                {
                    if (_awaitingFinal is { } f && ReferenceEquals(f.Slot, slot))
                    {
                        // The reply to the final dot is with the client: no longer ambiguous.
                        _awaitingFinal = null;
                    }
                }
                if (slot.IsGreeting && Fires(FaultPoint.Greeting) && _plan.Kind == FaultKind.Stall)
                {
                    Took();
                    Stall();
                    return;
                }
                if (slot.CloseAfter)
                {
                    Cut("closed after its own 421");
                    return;
                }
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private Slot Synthetic(int code, FaultPoint point)
    {
        string text = code switch
        {
            421 => $"421 4.3.2 mail.suempresa.test Service shutting down at {point} (faulty primary)\r\n",
            452 => $"452 4.3.1 Insufficient system storage at {point} (faulty primary)\r\n",
            _ => $"451 4.3.0 Local error in processing at {point} (faulty primary)\r\n",
        };
        return new Slot { Text = Encoding.ASCII.GetBytes(text), Ready = true, Synthetic = true, CloseAfter = code == 421 };
    }

    private bool Fires(FaultPoint point)
    {
        if (_triggered)
        {
            return false;
        }
        bool atTransaction = point == FaultPoint.Greeting || _transaction == _plan.Transaction;
        return atTransaction && _plan.Kind switch
        {
            FaultKind.DropAfterMail => point == FaultPoint.Mail,
            FaultKind.DropAfterRcpt => point == FaultPoint.Rcpt,
            FaultKind.DropMidData => point == FaultPoint.MidData,
            FaultKind.DropAfterDot => point == FaultPoint.EndOfData,
            FaultKind.Stall or FaultKind.TransientReply => point == _plan.Point,
            _ => false,
        };
    }

    private void Took()
    {
        if (_triggered)
        {
            return;
        }
        _triggered = true;
        _owner.Ledger.Took(_plan);
    }

    private void Stall()
    {
        _stalled = true;
        _ = Task.Delay(StallLimit, _cts.Token).ContinueWith(_ => Cut("stalled for too long"), TaskScheduler.Default);
    }

    /// <summary>Cuts both connections now (a crash, a drop).</summary>
    public void Cut(string why)
    {
        _ = why;
        _ = CloseAsync();
    }

    private async Task CloseAsync()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }
        (string Sender, string Recipient, Slot Slot)? pending;
        lock (_gate)
        {
            pending = _awaitingFinal;
            _awaitingFinal = null;
        }
        if (pending is { } p)
        {
            // The final dot went to the primary and its reply never reached the client.
            string? reply = p.Slot.Ready && p.Slot.Text is { } t ? Encoding.UTF8.GetString(t).TrimEnd() : null;
            _owner.Ledger.AmbiguousDelivery(new AmbiguousDelivery(p.Sender, p.Recipient, reply, "session cut before the reply reached the controller"));
        }
        if (_forced && !_triggered)
        {
            _owner.Rearm(_plan, _forcedSender);
        }
        else if (!_triggered && _plan.Kind is not (FaultKind.None or FaultKind.SilentAccept or FaultKind.Greet421 or FaultKind.Greet554 or FaultKind.DropBeforeGreeting))
        {
            _owner.Redeal(_plan);
        }
        await _cts.CancelAsync().ConfigureAwait(false);
        _client.Dispose();
        _upstream?.Dispose();
        _owner.Ended(_id);
    }

    private async Task WriteClientAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct) =>
        await WriteAsync(_client, bytes, ct).ConfigureAwait(false);

    private async Task WriteUpstreamAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        if (_throttle is not { } t)
        {
            await WriteAsync(_upstream!, bytes, ct).ConfigureAwait(false);
            return;
        }
        // Note: paced by the clock, slice by slice: the reading of the controller's side waits for
        // this, so only the socket buffers' worth runs ahead of the pace.
        int slice = Math.Max(1, _plan.BytesPerSecond / 20);
        while (bytes.Length > 0)
        {
            int n = Math.Min(slice, bytes.Length);
            await WriteAsync(_upstream!, bytes[..n], ct).ConfigureAwait(false);
            bytes = bytes[n..];
            long sent = t.Sent + n;
            t = (t.Clock, sent);
            _throttle = t;
            TimeSpan due = TimeSpan.FromSeconds((double)sent / _plan.BytesPerSecond) - t.Clock.Elapsed;
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, ct).ConfigureAwait(false);
            }
        }
    }

    private async Task WriteAsync(Socket socket, ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        while (bytes.Length > 0)
        {
            if (DateTime.UtcNow >= _trickleUntil)
            {
                await socket.SendAsync(bytes, SocketFlags.None, ct).ConfigureAwait(false);
                return;
            }
            int n;
            int pause;
            lock (_random)
            {
                n = Math.Min(bytes.Length, _random.Next(1, 64));
                pause = _random.Next(1, 12);
            }
            await socket.SendAsync(bytes[..n], SocketFlags.None, ct).ConfigureAwait(false);
            bytes = bytes[n..];
            await Task.Delay(pause, ct).ConfigureAwait(false);
        }
    }

    private static async Task DrainAsync(Socket socket, CancellationToken ct)
    {
        byte[] buffer = new byte[4096];
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(StallLimit);
        while (await socket.ReceiveAsync(buffer, SocketFlags.None, limit.Token).ConfigureAwait(false) > 0)
        {
        }
    }

    /// <summary>The EHLO reply without STARTTLS and CHUNKING: the session must stay plain text and use DATA.</summary>
    private static byte[] WithoutHiddenExtensions(byte[] reply)
    {
        string[] lines = Encoding.UTF8.GetString(reply).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var kept = lines.Where((l, i) => i == 0 || l.Length < 5 || !(l[4..].StartsWith("STARTTLS", StringComparison.OrdinalIgnoreCase) || l[4..].StartsWith("CHUNKING", StringComparison.OrdinalIgnoreCase))).ToList();
        var text = new StringBuilder();
        for (int i = 0; i < kept.Count; i++)
        {
            string l = kept[i];
            text.Append(l[..3]).Append(i == kept.Count - 1 ? ' ' : '-').Append(l.Length > 4 ? l[4..] : "").Append("\r\n");
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static int Code(byte[] reply) =>
        reply.Length >= 3 && int.TryParse(Encoding.ASCII.GetString(reply, 0, 3), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int c) ? c : 0;

    private static string Verb(byte[] line)
    {
        int n = 0;
        while (n < line.Length && n < 8 && line[n] is not ((byte)' ' or (byte)'\r' or (byte)'\n'))
        {
            n++;
        }
        return Encoding.ASCII.GetString(line, 0, n).ToUpperInvariant();
    }

    /// <summary>The address between the first '&lt;' and its '&gt;' in MAIL FROM / RCPT TO.</summary>
    private static string Address(byte[] line)
    {
        string text = Encoding.UTF8.GetString(line);
        int open = text.IndexOf('<', StringComparison.Ordinal);
        // Note: a quoted local part may hold '>': take the last one (parameters hold none).
        int last = text.LastIndexOf('>');
        return open < 0 || last < open ? "" : text[(open + 1)..last];
    }

    /// <summary>Finds CRLF "." CRLF, the data starting as if a CRLF had just been seen.</summary>
    private sealed class EndOfDataMatcher
    {
        private int _state = 2;

        /// <summary>Feeds a chunk; returns the index just past the terminator, or -1.</summary>
        public int Scan(ReadOnlySpan<byte> chunk)
        {
            for (int i = 0; i < chunk.Length; i++)
            {
                byte b = chunk[i];
                _state = (_state, b) switch
                {
                    (0, (byte)'\r') => 1,
                    (1, (byte)'\n') => 2,
                    (1, (byte)'\r') => 1,
                    (2, (byte)'.') => 3,
                    (2, (byte)'\r') => 1,
                    (3, (byte)'\r') => 4,
                    (4, (byte)'\n') => 5,
                    (4, (byte)'\r') => 1,
                    _ => 0,
                };
                if (_state == 5)
                {
                    _state = 2;
                    return i + 1;
                }
            }
            return -1;
        }
    }

    /// <summary>Lines and raw chunks from a socket, with what was read ahead kept for the next call.</summary>
    private sealed class LineReader(Socket socket)
    {
        private const int MaxLine = 64 * 1024;
        private byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;

        public async Task<byte[]?> ReadLineAsync(CancellationToken ct)
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
                if (_end - _start > MaxLine)
                {
                    throw new IOException("command line too long");
                }
                if (!await FillAsync(ct).ConfigureAwait(false))
                {
                    return null;
                }
            }
        }

        /// <summary>What is buffered, or the next read; empty at the end of the stream.</summary>
        public async Task<ReadOnlyMemory<byte>> ReadChunkAsync(CancellationToken ct)
        {
            if (_end == _start && !await FillAsync(ct).ConfigureAwait(false))
            {
                return ReadOnlyMemory<byte>.Empty;
            }
            byte[] chunk = _buffer[_start.._end];
            _start = _end;
            return chunk;
        }

        /// <summary>Puts bytes read ahead (after the end of the data) back in front.</summary>
        public void PushBack(ReadOnlyMemory<byte> bytes)
        {
            if (bytes.IsEmpty)
            {
                return;
            }
            byte[] rest = [.. bytes.Span, .. _buffer.AsSpan(_start, _end - _start)];
            if (rest.Length > _buffer.Length)
            {
                _buffer = new byte[rest.Length * 2];
            }
            rest.CopyTo(_buffer, 0);
            _start = 0;
            _end = rest.Length;
        }

        private async Task<bool> FillAsync(CancellationToken ct)
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length)
            {
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }
            int n = await socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, ct).ConfigureAwait(false);
            _end += n;
            return n > 0;
        }
    }

    /// <summary>Whole SMTP replies (all lines of a multi-line one) from the primary.</summary>
    private sealed class ReplyReader(Socket socket)
    {
        private readonly LineReader _lines = new(socket);

        public async Task<byte[]?> ReadReplyAsync(CancellationToken ct)
        {
            var reply = new List<byte>();
            while (true)
            {
                byte[]? line = await _lines.ReadLineAsync(ct).ConfigureAwait(false);
                if (line is null)
                {
                    return null;
                }
                reply.AddRange(line);
                if (line.Length < 4 || line[3] != (byte)'-')
                {
                    return [.. reply];
                }
            }
        }
    }
}
