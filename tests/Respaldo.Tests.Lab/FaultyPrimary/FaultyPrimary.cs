using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Respaldo.Tests.Faults;

/// <summary>
/// A faulty primary: a TCP proxy on the loopback that stands between the controller and the
/// lab's real primary Postfix and breaks SMTP sessions on purpose. The tenant's primary points
/// at <see cref="Port"/>; the real primary behind it stores whatever gets through.
///
/// It is either <b>up</b> (sessions pass through; with faults on, each new connection is dealt
/// a <see cref="FaultPlan"/> from the seed's <see cref="FaultSchedule"/>) or <b>down</b> in one
/// of the ways a server can be down (nothing listens, it accepts and says nothing, it greets
/// 421 or 554, it hangs up at once). Going down cuts every session in progress, as a crash
/// would. A test may also <see cref="Force"/> the next faults, one by one.
///
/// It speaks enough SMTP to find MAIL, RCPT, DATA and the end of the data (RFC 5321 §4.5.2)
/// in the stream, and hides STARTTLS and CHUNKING from the EHLO reply so that every session
/// stays readable. What it did is in <see cref="Ledger"/>.
/// </summary>
public sealed class FaultyPrimary : IAsyncDisposable
{
    private readonly object _lock = new();
    private readonly LinkedList<(FaultPlan Plan, string? Sender)> _forced = new();
    private readonly Queue<FaultPlan> _redeal = new();
    private readonly ConcurrentDictionary<int, ProxySession> _sessions = new();
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _listener;
    private int? _receiveBuffer;
    private Task _accepting = Task.CompletedTask;
    private FaultKind _down = FaultKind.None;
    private bool _faults;
    private int _connection;

    private FaultyPrimary(IPEndPoint upstream, int seed, int passes)
    {
        Upstream = upstream;
        Seed = seed;
        Schedule = new FaultSchedule(seed, passes);
    }

    public IPEndPoint Upstream { get; }

    public int Seed { get; }

    public FaultSchedule Schedule { get; }

    public FaultLedger Ledger { get; } = new();

    public string Host => "127.0.0.1";

    public int Port { get; private set; }

    /// <summary>"host:port" as the tenant's primary.hosts wants it.</summary>
    public string Address => $"{Host}:{Port.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    public int ActiveSessions => _sessions.Count;

    /// <summary>Down, and how; <see cref="FaultKind.None"/> while up.</summary>
    public FaultKind DownAs
    {
        get
        {
            lock (_lock)
            {
                return _down;
            }
        }
    }

    /// <summary>Starts listening on a free loopback port, up and without faults.</summary>
    /// <param name="receiveBuffer">SO_RCVBUF of the controller's side, when given: a small one keeps the kernel from
    /// taking megabytes ahead of a <see cref="FaultKind.Throttle"/>, so the controller feels the primary's pace.</param>
    public static FaultyPrimary Start(string upstreamHost, int upstreamPort, int seed, int passes = 22, int? receiveBuffer = null)
    {
        var proxy = new FaultyPrimary(new IPEndPoint(IPAddress.Parse(upstreamHost), upstreamPort), seed, passes) { _receiveBuffer = receiveBuffer };
        proxy.Listen();
        return proxy;
    }

    /// <summary>Up: sessions pass through, each dealt a fault plan from the schedule when <paramref name="faults"/>.</summary>
    public void Up(bool faults)
    {
        lock (_lock)
        {
            _faults = faults;
            _down = FaultKind.None;
            if (_listener is null)
            {
                Listen();
            }
        }
    }

    /// <summary>
    /// Down, as <paramref name="how"/> says: <see cref="FaultKind.RefuseConnections"/> closes the
    /// listening socket; <see cref="FaultKind.SilentAccept"/>, <see cref="FaultKind.Greet421"/>,
    /// <see cref="FaultKind.Greet554"/> and <see cref="FaultKind.DropBeforeGreeting"/> treat every
    /// new connection so. Sessions in progress are cut.
    /// </summary>
    public void Down(FaultKind how)
    {
        if (how is not (FaultKind.RefuseConnections or FaultKind.SilentAccept or FaultKind.Greet421 or FaultKind.Greet554 or FaultKind.DropBeforeGreeting))
        {
            throw new ArgumentException($"{how} is not a way to be down", nameof(how));
        }
        lock (_lock)
        {
            _down = how;
            if (how == FaultKind.RefuseConnections)
            {
                Ledger.RefusalPhase();
                _listener?.Dispose();
                _listener = null;
            }
        }
        foreach (ProxySession s in _sessions.Values)
        {
            s.Cut("the primary went down");
        }
    }

    /// <summary>
    /// Forces the next fault, ahead of the schedule and even with faults off. A fault at the
    /// greeting (or a trickle) goes to the next connection, a probe's or a hand-over's; a fault
    /// in a transaction goes to the next session that sends MAIL FROM, and applies to that
    /// message; with <paramref name="sender"/>, to the message from that envelope sender (so that
    /// several forced faults can be staged at once). A session that ends before its fault took
    /// effect gives it back.
    /// </summary>
    public void Force(FaultPlan plan, string? sender = null)
    {
        lock (_lock)
        {
            _forced.AddLast((plan, sender));
        }
    }

    public int ForcedPending
    {
        get
        {
            lock (_lock)
            {
                return _forced.Count;
            }
        }
    }

    /// <summary>Waits until no session is open (the controller was killed: the kernel closed its sockets).</summary>
    public async Task WaitIdleAsync(TimeSpan timeout)
    {
        DateTime end = DateTime.UtcNow + timeout;
        while (!_sessions.IsEmpty)
        {
            if (DateTime.UtcNow > end)
            {
                throw new TimeoutException($"{_sessions.Count} session(s) still open through the faulty primary");
            }
            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    internal void Rearm(FaultPlan plan, string? sender)
    {
        lock (_lock)
        {
            _forced.AddFirst((plan, sender));
        }
    }

    internal void Ended(int id) => _sessions.TryRemove(id, out _);

    private void Listen()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        // Note: the same port again after a refusal phase, with the old connections in TIME_WAIT.
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        if (_receiveBuffer is { } size)
        {
            // Note: set before listen(2), so that accepted sockets inherit it and the window is small from the start.
            socket.ReceiveBufferSize = size;
        }
        socket.Bind(new IPEndPoint(IPAddress.Loopback, Port));
        socket.Listen(128);
        Port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        _listener = socket;
        _accepting = AcceptLoopAsync(socket);
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return;
            }
            client.NoDelay = true;
            int id = Interlocked.Increment(ref _connection);
            (FaultPlan plan, bool forced) = PlanFor();
            var session = new ProxySession(this, id, client, plan, forced, _stopping.Token);
            _sessions[id] = session;
            Ledger.Connected();
            _ = Task.Run(session.RunAsync);
        }
    }

    private (FaultPlan, bool) PlanFor()
    {
        lock (_lock)
        {
            if (_down != FaultKind.None)
            {
                return (new FaultPlan(_down), false);
            }
            // Note: the first fault at connection level, even behind faults still waiting for their message.
            for (LinkedListNode<(FaultPlan Plan, string? Sender)>? n = _forced.First; n is not null; n = n.Next)
            {
                if (AtConnection(n.Value.Plan))
                {
                    _forced.Remove(n);
                    return (n.Value.Plan, true);
                }
            }
            if (!_faults)
            {
                return (FaultPlan.Pass, false);
            }
            // Note: a fault dealt to a session that ended before its point (a probe never sends
            // MAIL) is dealt again, so that every fault takes effect in a run of any length.
            return (_redeal.Count > 0 ? _redeal.Dequeue() : Schedule.Next(), false);
        }
    }

    internal void Redeal(FaultPlan plan)
    {
        lock (_lock)
        {
            if (_faults && _down == FaultKind.None)
            {
                _redeal.Enqueue(plan with { Transaction = 0 });
            }
        }
    }

    /// <summary>At MAIL FROM of a session without a fault: the forced fault for this sender, or the next one for any.</summary>
    internal (FaultPlan Plan, string? Sender)? ClaimForMail(string sender)
    {
        lock (_lock)
        {
            for (LinkedListNode<(FaultPlan Plan, string? Sender)>? n = _forced.First; n is not null; n = n.Next)
            {
                if (!AtConnection(n.Value.Plan) && (n.Value.Sender == sender || (n.Value.Sender is null && n == _forced.First)))
                {
                    _forced.Remove(n);
                    return n.Value;
                }
            }
            return null;
        }
    }

    private static bool AtConnection(FaultPlan plan) =>
        plan.Kind is FaultKind.SilentAccept or FaultKind.Greet421 or FaultKind.Greet554 or FaultKind.DropBeforeGreeting or FaultKind.Trickle
        || (plan.Kind == FaultKind.Stall && plan.Point == FaultPoint.Greeting);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        lock (_lock)
        {
            _listener?.Dispose();
            _listener = null;
        }
        foreach (ProxySession s in _sessions.Values)
        {
            s.Cut("the faulty primary is shutting down");
        }
        await _accepting.ConfigureAwait(false);
        _stopping.Dispose();
    }
}
