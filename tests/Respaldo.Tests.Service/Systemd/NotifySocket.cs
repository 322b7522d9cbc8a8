using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;

namespace Respaldo.Tests.Service.Systemd;

/// <summary>
/// The service manager's end of sd_notify(3): a unix datagram socket the daemon finds in
/// $NOTIFY_SOCKET. Every datagram is kept with the time it arrived.
/// </summary>
public sealed class NotifySocket : IDisposable
{
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;

    public NotifySocket()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("respaldo-notify-").FullName;
        Path = System.IO.Path.Combine(Directory, "notify");
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        _socket.Bind(new UnixDomainSocketEndPoint(Path));
        _reader = Task.Run(ReadAsync);
    }

    public string Directory { get; }

    public string Path { get; }

    public ConcurrentQueue<(DateTime At, string Text)> Received { get; } = new();

    /// <summary>Every assignment received so far (a datagram may carry several, one per line), in order.</summary>
    public IReadOnlyList<(DateTime At, string Line)> Lines =>
        Received.SelectMany(r => r.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => (r.At, l))).ToList();

    private async Task ReadAsync()
    {
        byte[] buffer = new byte[4096];
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                Received.Enqueue((DateTime.UtcNow, Encoding.UTF8.GetString(buffer, 0, n)));
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Waits for a line that satisfies <paramref name="match"/> after position <paramref name="from"/> of <see cref="Lines"/>; returns its index.</summary>
    public async Task<int> WaitForAsync(Func<string, bool> match, int from, TimeSpan timeout, string what)
    {
        DateTime until = DateTime.UtcNow + timeout;
        while (true)
        {
            IReadOnlyList<(DateTime At, string Line)> lines = Lines;
            for (int i = from; i < lines.Count; i++)
            {
                if (match(lines[i].Line))
                {
                    return i;
                }
            }
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"no {what} from the daemon; it sent:\n{string.Join('\n', lines.Select(l => l.Line))}");
            }
            await Task.Delay(50);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        try
        {
            _reader.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The socket was closed under the reader.
        }
        _stop.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
