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

    /// <summary>
    /// Forgets entries of messages that are no longer waiting, asking <paramref name="waiting"/>
    /// about each deferred message (a lookup each): the cost is the deferred messages, not the backlog.
    /// </summary>
    public void Retain(Func<string, bool> waiting)
    {
        List<string> keys;
        lock (_lock)
        {
            keys = [.. _entries.Keys];
        }
        // Note: asked outside this lock: waiting takes the index's.
        List<string> gone = keys.Where(k => !waiting(k)).ToList();
        lock (_lock)
        {
            foreach (string k in gone)
            {
                _entries.Remove(k);
            }
        }
    }

    /// <summary>How many deferred messages are not due at <paramref name="now"/>, and when the first of them is (null: none).</summary>
    public (int NotDue, DateTimeOffset? Next) Deferrals(DateTimeOffset now)
    {
        lock (_lock)
        {
            int notDue = 0;
            DateTimeOffset? next = null;
            foreach ((int _, DateTimeOffset notBefore) in _entries.Values)
            {
                if (notBefore > now)
                {
                    notDue++;
                    if (next is null || notBefore < next)
                    {
                        next = notBefore;
                    }
                }
            }
            return (notDue, next);
        }
    }

    /// <summary>Whether any message is deferred at all (none: every waiting message is due, and a hand-over needs no filter).</summary>
    public bool Any
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count > 0;
            }
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
