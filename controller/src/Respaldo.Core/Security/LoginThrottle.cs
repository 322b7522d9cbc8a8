using System.Collections.Concurrent;
using System.Net;

namespace Respaldo.Security;

/// <summary>
/// Failed-login rate limit, per user name and per client address, for any login form (the
/// dashboard's; the webmail's with its own instance). A sliding window: after
/// <see cref="MaxPerUser"/> failures for one name, or <see cref="MaxPerAddress"/> from one
/// address, within <see cref="Window"/>, further attempts are refused without checking the
/// password (so a guess cannot even be tested) until old failures age out. A success clears
/// the user's count, not the address's.
/// </summary>
public sealed class LoginThrottle(TimeProvider time)
{
    public int MaxPerUser { get; init; } = 5;
    public int MaxPerAddress { get; init; } = 20;
    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(15);

    private readonly ConcurrentDictionary<string, Queue<DateTimeOffset>> _failures = new(StringComparer.Ordinal);

    private static string UserKey(string user) => "u:" + user.Trim().ToLowerInvariant();

    private static string AddressKey(IPAddress? address) => "a:" + (address?.MapToIPv6().ToString() ?? "?");

    /// <summary>True when this attempt must be refused; <paramref name="retryAfter"/> says for how long.</summary>
    public bool IsBlocked(string user, IPAddress? address, out TimeSpan retryAfter)
    {
        DateTimeOffset now = time.GetUtcNow();
        TimeSpan u = Blocked(UserKey(user), MaxPerUser, now);
        TimeSpan a = Blocked(AddressKey(address), MaxPerAddress, now);
        retryAfter = u > a ? u : a;
        return retryAfter > TimeSpan.Zero;
    }

    public void Failed(string user, IPAddress? address)
    {
        DateTimeOffset now = time.GetUtcNow();
        foreach (string key in new[] { UserKey(user), AddressKey(address) })
        {
            Queue<DateTimeOffset> q = _failures.GetOrAdd(key, _ => new Queue<DateTimeOffset>());
            lock (q)
            {
                q.Enqueue(now);
                while (q.Count > 1000)
                {
                    q.Dequeue();
                }
            }
        }
    }

    public void Succeeded(string user) => _failures.TryRemove(UserKey(user), out _);

    private TimeSpan Blocked(string key, int max, DateTimeOffset now)
    {
        if (!_failures.TryGetValue(key, out Queue<DateTimeOffset>? q))
        {
            return TimeSpan.Zero;
        }
        lock (q)
        {
            while (q.Count > 0 && now - q.Peek() >= Window)
            {
                q.Dequeue();
            }
            if (q.Count < max)
            {
                return TimeSpan.Zero;
            }
            // The oldest failure that keeps the count at the limit must age out first.
            DateTimeOffset oldest = q.ElementAt(q.Count - max);
            return oldest + Window - now;
        }
    }
}
