using System.Net;
using System.Net.Sockets;

namespace Respaldo.Policy;

/// <summary>
/// How many recipient callouts each SMTP client may cause: at most <c>perMinute</c> in any
/// minute and <c>perHour</c> in any hour (sliding windows). A dictionary attack (RCPT after RCPT
/// with made-up local parts) would otherwise turn the backup into a verifier that asks the
/// primary about every guess; over budget the client gets 450 and the primary is not asked.
/// IPv6 clients count per /64, the block one host is usually given. Thread-safe.
/// </summary>
public sealed class CalloutBudget
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    private readonly object _lock = new();
    private readonly Dictionary<string, Queue<DateTimeOffset>> _clients = new(StringComparer.Ordinal);
    private DateTimeOffset _sweptAt = DateTimeOffset.MinValue;

    /// <summary>True (and the callout counted) when <paramref name="client"/> may cause one more callout now.</summary>
    public bool TryTake(string client, DateTimeOffset now, int perMinute, int perHour)
    {
        string key = Key(client);
        lock (_lock)
        {
            Sweep(now);
            if (!_clients.TryGetValue(key, out Queue<DateTimeOffset>? times))
            {
                times = new Queue<DateTimeOffset>();
                _clients[key] = times;
            }
            while (times.Count > 0 && now - times.Peek() >= Hour)
            {
                times.Dequeue();
            }
            int lastMinute = times.Count(t => now - t < Minute);
            if (times.Count >= perHour || lastMinute >= perMinute)
            {
                return false;
            }
            times.Enqueue(now);
            return true;
        }
    }

    /// <summary>Clients tracked now (for tests: idle ones are forgotten).</summary>
    internal int Clients
    {
        get
        {
            lock (_lock)
            {
                return _clients.Count;
            }
        }
    }

    // Note: a client that stopped has nothing left to count after an hour; forgetting it keeps
    // the table as small as the last hour's clients, however many addresses a botnet uses.
    private void Sweep(DateTimeOffset now)
    {
        if (now - _sweptAt < Minute)
        {
            return;
        }
        _sweptAt = now;
        foreach (string idle in _clients.Where(c => c.Value.Count == 0 || now - c.Value.Last() >= Hour).Select(c => c.Key).ToList())
        {
            _clients.Remove(idle);
        }
    }

    private static string Key(string client)
    {
        if (IPAddress.TryParse(client, out IPAddress? address) && address.AddressFamily == AddressFamily.InterNetworkV6 && !address.IsIPv4MappedToIPv6)
        {
            byte[] bytes = address.GetAddressBytes();
            Array.Clear(bytes, 8, 8);
            return new IPAddress(bytes) + "/64";
        }
        return client;
    }
}
