using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Respaldo.Bench;

/// <summary>
/// "The primary accepts connections": the first moment a TCP connect to its port succeeds.
/// Started before the primary is, it tries every 5 ms; while the port is closed each try is
/// answered at once with a reset, so the measurement costs nothing to either side.
/// </summary>
public static class PortWatch
{
    /// <summary>Returns the Stopwatch timestamp of the first accepted connection.</summary>
    public static async Task<long> WaitOpenAsync(IPEndPoint endpoint, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attempt.CancelAfter(TimeSpan.FromSeconds(1));
            try
            {
                await socket.ConnectAsync(endpoint, attempt.Token);
                return Stopwatch.GetTimestamp();
            }
            catch (SocketException)
            {
                await Task.Delay(5, cancellationToken);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // A connect that hangs is not "accepting"; try again.
            }
        }
        throw new TimeoutException($"nothing accepted connections on {endpoint} within {timeout.TotalSeconds:0} s");
    }

    public static bool IsOpen(IPEndPoint endpoint)
    {
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Connect(endpoint);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
