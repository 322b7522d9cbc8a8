namespace Respaldo.HandOver;

/// <summary>
/// When a message the primary deferred (4xx, timeout, broken connection) may be tried again:
/// 15 s after the first failure, doubling up to the configured ceiling. Kept in memory: after
/// a restart every waiting message is simply due again; a reload keeps it. One per tenant:
/// <see cref="Retain"/> forgets whatever the tenant no longer has waiting.
/// </summary>
public sealed class RetrySchedule(TimeSpan ceiling)
{
    public static readonly TimeSpan First = TimeSpan.FromSeconds(15);

    private readonly object _lock = new();
    private TimeSpan _ceiling = ceiling;

    /// <summary>The longest delay (controller.retryMaxSeconds); a reload may change it, for the next deferral on.</summary>
    public TimeSpan Ceiling
    {
        get
        {
            lock (_lock)
            {
                return _ceiling;
            }
        }
        set
        {
            lock (_lock)
            {
                _ceiling = value;
            }
        }
    }
    private readonly Dictionary<string, (int Attempts, DateTimeOffset NotBefore)> _entries = new(StringComparer.Ordinal);

    public static TimeSpan Delay(int attempts, TimeSpan ceiling) =>
        TimeSpan.FromSeconds(Math.Min(First.TotalSeconds * Math.Pow(2, Math.Min(attempts - 1, 30)), ceiling.TotalSeconds));

    /// <summary>How many attempts this message has had so far.</summary>
    public int Attempts(string key)
    {
        lock (_lock)
        {
            return _entries.TryGetValue(key, out var e) ? e.Attempts : 0;
        }
    }

    public bool IsDue(string key, DateTimeOffset now)
    {
        lock (_lock)
        {
            return !_entries.TryGetValue(key, out var e) || e.NotBefore <= now;
        }
    }

    public void Deferred(string key, DateTimeOffset now)
    {
        lock (_lock)
        {
            int attempts = (_entries.TryGetValue(key, out var e) ? e.Attempts : 0) + 1;
            _entries[key] = (attempts, now + Delay(attempts, _ceiling));
        }
    }

    public void Forget(string key)
    {
        lock (_lock)
        {
            _entries.Remove(key);
        }
    }

    /// <summary>The earliest time a deferred message among <paramref name="keys"/> becomes due, if any is waiting.</summary>
    public DateTimeOffset? NextDue(IEnumerable<string> keys)
    {
        lock (_lock)
        {
            DateTimeOffset? next = null;
            foreach (string k in keys)
            {
                if (_entries.TryGetValue(k, out var e) && (next is null || e.NotBefore < next))
                {
                    next = e.NotBefore;
                }
            }
            return next;
        }
    }

    /// <summary>Forgets entries of messages that are no longer waiting.</summary>
    public void Retain(IReadOnlySet<string> waiting)
    {
        lock (_lock)
        {
            foreach (string k in _entries.Keys.Where(k => !waiting.Contains(k)).ToList())
            {
                _entries.Remove(k);
            }
        }
    }
}
