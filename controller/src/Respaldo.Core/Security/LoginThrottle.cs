using System.Net;
using System.Net.Sockets;

namespace Respaldo.Security;

/// <summary>
/// Failed-login rate limit for any login form (the dashboard's; the webmail's with its own
/// instance), within a sliding <see cref="Window"/>. It slows guessing down without letting a
/// stranger lock a real user out:
/// <list type="bullet">
/// <item>per name and client (an IPv6 client counts by its /64): <see cref="FreePerClient"/>
/// failures are free, then each further attempt must wait twice as long as the one before
/// (<see cref="FirstDelay"/>, doubling, at most <see cref="MaxClientDelay"/>) and is refused
/// with a Retry-After until then; another client is not affected;</item>
/// <item>per client across names: after <see cref="MaxPerAddress"/> failures the client is
/// refused (one address trying many names);</item>
/// <item>per name from every client: after <see cref="SlowAfterPerUser"/> failures every
/// attempt for the name waits a little before its check (one more second per failure, at most
/// <see cref="MaxUserDelay"/>), but is never refused: the real user from their own address
/// still gets in.</item>
/// </list>
/// <para>
/// An attempt is counted as a failure the moment it begins (<see cref="Begin"/>), before the
/// slow password check, and <see cref="Succeeded"/> takes it back: so parallel requests cannot
/// test more guesses than the limit (a check-then-count design lets every request that started
/// before the limit was counted through).
/// </para>
/// </summary>
public sealed class LoginThrottle(TimeProvider time)
{
    public int FreePerClient { get; init; } = 3;
    public TimeSpan FirstDelay { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxClientDelay { get; init; } = TimeSpan.FromMinutes(5);
    public int MaxPerAddress { get; init; } = 20;
    public int SlowAfterPerUser { get; init; } = 10;
    public TimeSpan MaxUserDelay { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(15);

    // Note: one lock for all: logins are rare, and the check and the count must be one step.
    private readonly Dictionary<string, List<DateTimeOffset>> _failures = new(StringComparer.Ordinal);
    private int _sinceSweep;

    private static string UserKey(string user) => "u:" + user.Trim().ToLowerInvariant();

    private static string PairKey(string user, IPAddress? address) => "p:" + AddressKey(address) + " " + UserKey(user);

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
    /// Begins an attempt: refused (and how long to wait) when it must not be checked now;
    /// otherwise admitted, with the delay to wait before checking the password, and counted as
    /// a failure until <see cref="Succeeded"/>.
    /// </summary>
    public LoginAdmission Begin(string user, IPAddress? address)
    {
        DateTimeOffset now = time.GetUtcNow();
        string u = UserKey(user), a = AddressKey(address), p = PairKey(user, address);
        lock (_failures)
        {
            SweepNow(now);
            int pairCount = Recent(p, now);
            TimeSpan wait = TimeSpan.Zero;
            if (pairCount >= FreePerClient)
            {
                DateTimeOffset next = _failures[p][^1] + Backoff(pairCount - FreePerClient);
                wait = next - now;
            }
            int addressCount = Recent(a, now);
            if (addressCount >= MaxPerAddress)
            {
                // The oldest failure that keeps the count at the limit must age out first.
                TimeSpan wa = _failures[a][addressCount - MaxPerAddress] + Window - now;
                wait = wa > wait ? wa : wait;
            }
            if (wait > TimeSpan.Zero)
            {
                return new LoginAdmission(false, wait, TimeSpan.Zero);
            }
            int userCount = Recent(u, now);
            TimeSpan delay = userCount < SlowAfterPerUser
                ? TimeSpan.Zero
                : Min(TimeSpan.FromSeconds(userCount - SlowAfterPerUser + 1), MaxUserDelay);
            Add(u, now);
            Add(a, now);
            Add(p, now);
            return new LoginAdmission(true, TimeSpan.Zero, delay);
        }
    }

    /// <summary>
    /// The attempt begun for this user and address was right: the pair's failures are cleared;
    /// the name's and the address's counts lose this attempt (others' failures for the name stay,
    /// so a login of the real user does not hand an attacker fresh guesses).
    /// </summary>
    public void Succeeded(string user, IPAddress? address)
    {
        lock (_failures)
        {
            _failures.Remove(PairKey(user, address));
            foreach (string key in (ReadOnlySpan<string>)[UserKey(user), AddressKey(address)])
            {
                if (_failures.TryGetValue(key, out List<DateTimeOffset>? list) && list.Count > 0)
                {
                    list.RemoveAt(list.Count - 1);
                }
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

    private TimeSpan Backoff(int beyondFree)
    {
        // Note: 2^20 seconds is far past any sensible cap; stop doubling before it overflows.
        double factor = Math.Pow(2, Math.Min(beyondFree, 20));
        return Min(FirstDelay * factor, MaxClientDelay);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

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

    /// <summary>The failures of <paramref name="key"/> still in the window (older ones are dropped, and the key once it has none).</summary>
    private int Recent(string key, DateTimeOffset now)
    {
        if (!_failures.TryGetValue(key, out List<DateTimeOffset>? list))
        {
            return 0;
        }
        list.RemoveAll(t => now - t >= Window);
        if (list.Count == 0)
        {
            _failures.Remove(key);
        }
        return list.Count;
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
            Recent(key, now);
        }
    }
}

/// <summary>
/// <see cref="LoginThrottle.Begin"/>'s answer: <see cref="Admitted"/> (check the password after
/// <see cref="Delay"/>) or refused (answer 429 with <see cref="RetryAfter"/>).
/// </summary>
public readonly record struct LoginAdmission(bool Admitted, TimeSpan RetryAfter, TimeSpan Delay);
