using System.Net;
using System.Net.Sockets;

namespace Respaldo.Security;

/// <summary>
/// Failed-login rate limit, per user name and per client address, for any login form (the
/// dashboard's; the webmail's with its own instance). A sliding window: after
/// <see cref="MaxPerUser"/> failures for one name, or <see cref="MaxPerAddress"/> from one
/// address (an IPv6 client counts by its /64), within <see cref="Window"/>, further attempts
/// are refused without checking the password until old failures age out.
/// <para>
/// An attempt is counted as a failure the moment it begins (<see cref="TryBegin"/>), before the
/// slow password check, and <see cref="Succeeded"/> takes it back: so parallel requests cannot
/// test more guesses than the limit (a check-then-count design lets every request that started
/// before the fifth failure was counted through).
/// </para>
/// </summary>
public sealed class LoginThrottle(TimeProvider time)
{
    public int MaxPerUser { get; init; } = 5;
    public int MaxPerAddress { get; init; } = 20;
    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(15);

    // Note: one lock for all: logins are rare, and the check and the count must be one step.
    private readonly Dictionary<string, List<DateTimeOffset>> _failures = new(StringComparer.Ordinal);
    private int _sinceSweep;

    private static string UserKey(string user) => "u:" + user.Trim().ToLowerInvariant();

    private static string AddressKey(IPAddress? address)
    {
        if (address is null)
        {
            return "a:?";
        }
        IPAddress a = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        if (a.AddressFamily == AddressFamily.InterNetworkV6)
        {
            // Note: one client usually holds a whole /64; counting single addresses would give
            // it an endless supply of fresh ones.
            byte[] bytes = a.GetAddressBytes();
            Array.Clear(bytes, 8, 8);
            return "a:" + new IPAddress(bytes) + "/64";
        }
        return "a:" + a;
    }

    /// <summary>
    /// Begins an attempt. Returns false (and how long to wait) when it must be refused without
    /// checking the password; otherwise counts it as a failure until <see cref="Succeeded"/>.
    /// </summary>
    public bool TryBegin(string user, IPAddress? address, out TimeSpan retryAfter)
    {
        DateTimeOffset now = time.GetUtcNow();
        string u = UserKey(user), a = AddressKey(address);
        lock (_failures)
        {
            SweepNow(now);
            TimeSpan wu = Blocked(u, MaxPerUser, now);
            TimeSpan wa = Blocked(a, MaxPerAddress, now);
            retryAfter = wu > wa ? wu : wa;
            if (retryAfter > TimeSpan.Zero)
            {
                return false;
            }
            Add(u, now);
            Add(a, now);
            return true;
        }
    }

    /// <summary>The attempt begun for this user and address was right: the user's failures are cleared, the address's count loses this attempt.</summary>
    public void Succeeded(string user, IPAddress? address)
    {
        lock (_failures)
        {
            _failures.Remove(UserKey(user));
            if (_failures.TryGetValue(AddressKey(address), out List<DateTimeOffset>? list) && list.Count > 0)
            {
                list.RemoveAt(list.Count - 1);
            }
        }
    }

    /// <summary>How many keys are kept (for tests: names and addresses are forgotten once their failures age out).</summary>
    public int Tracked
    {
        get
        {
            lock (_failures)
            {
                return _failures.Count;
            }
        }
    }

    private void Add(string key, DateTimeOffset now)
    {
        if (!_failures.TryGetValue(key, out List<DateTimeOffset>? list))
        {
            _failures[key] = list = [];
        }
        list.Add(now);
        if (list.Count > 1000)
        {
            list.RemoveAt(0);
        }
    }

    private TimeSpan Blocked(string key, int max, DateTimeOffset now)
    {
        if (!_failures.TryGetValue(key, out List<DateTimeOffset>? list))
        {
            return TimeSpan.Zero;
        }
        list.RemoveAll(t => now - t >= Window);
        if (list.Count == 0)
        {
            _failures.Remove(key);
            return TimeSpan.Zero;
        }
        if (list.Count < max)
        {
            return TimeSpan.Zero;
        }
        // The oldest failure that keeps the count at the limit must age out first.
        return list[list.Count - max] + Window - now;
    }

    // Note: names and addresses that never come back are dropped once their failures age out,
    // so random names from many addresses cannot grow the table without end.
    private void SweepNow(DateTimeOffset now)
    {
        if (++_sinceSweep < 256)
        {
            return;
        }
        _sinceSweep = 0;
        foreach (string key in _failures.Keys.ToList())
        {
            Blocked(key, int.MaxValue, now);
        }
    }
}
