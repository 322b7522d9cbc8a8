using System.Net;
using System.Net.Sockets;

namespace Respaldo.Tests;

/// <summary>
/// The ports a lab uses: LAB_PORT_BASE plus these offsets (deploy/lab/lab's header, plus +27
/// for the benchmark's relay-mode Postfix and +81 for the alert tests' webhook receiver). One
/// list for every fixture, so a port the lab gains is checked everywhere at once.
/// </summary>
public static class LabPorts
{
    public static IReadOnlyList<int> Offsets { get; } = [24, 25, 26, 27, 29, 32, 33, 34, 43, 53, 80, 81, 87];

    public static bool AllFree(int portBase) => Offsets.All(o => IsFree(portBase + o));

    /// <summary>A base chosen at random among <c>lowest + k * 100</c> (k &lt; slots) whose ports are all free right now.</summary>
    public static int RandomFreeBase(int lowest, int slots)
    {
        for (int attempt = 0; attempt < 50; attempt++)
        {
            int b = lowest + (Random.Shared.Next(0, slots) * 100);
            if (AllFree(b))
            {
                return b;
            }
        }
        throw new InvalidOperationException($"no free port range for a lab from {lowest}");
    }

    /// <summary>The first base from <paramref name="lowest"/> upward, in steps of 100, whose ports are all free.</summary>
    public static int FirstFreeBase(int lowest, int highest)
    {
        for (int b = lowest; b < highest; b += 100)
        {
            if (AllFree(b))
            {
                return b;
            }
        }
        throw new InvalidOperationException($"no free port range for a lab between {lowest} and {highest}");
    }

    public static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
