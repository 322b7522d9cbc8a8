using System.Collections.Concurrent;

namespace Respaldo.Webmail;

/// <summary>
/// How many messages each mailbox may still send from the webmail: at most a number in any
/// hour, a sliding window over the times of the messages it sent. A stolen webmail password
/// must not turn the backup into a spam relay that damages its reputation. Pure but for the
/// clock (<see cref="TimeProvider"/>); in memory, so a restart forgets (and ends every session).
/// </summary>
public sealed class SendLimit(TimeProvider time)
{
    public static readonly TimeSpan Window = TimeSpan.FromHours(1);

    private readonly ConcurrentDictionary<string, Queue<DateTimeOffset>> _sent = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Takes one send for <paramref name="mailbox"/> when fewer than <paramref name="perHour"/>
    /// were taken in the last hour, and says so; otherwise takes nothing and says when the
    /// oldest send leaves the window (<paramref name="retryAt"/>).
    /// </summary>
    public bool TryTake(string mailbox, int perHour, out DateTimeOffset retryAt)
    {
        Queue<DateTimeOffset> sent = _sent.GetOrAdd(mailbox, _ => new Queue<DateTimeOffset>());
        lock (sent)
        {
            DateTimeOffset now = time.GetUtcNow();
            while (sent.TryPeek(out DateTimeOffset oldest) && now - oldest >= Window)
            {
                sent.Dequeue();
            }
            if (sent.Count >= perHour)
            {
                retryAt = sent.Peek() + Window;
                return false;
            }
            sent.Enqueue(now);
            retryAt = now;
            return true;
        }
    }

    /// <summary>Gives back a send taken by <see cref="TryTake"/> when the message did not go out at all.</summary>
    public void GiveBack(string mailbox)
    {
        if (_sent.TryGetValue(mailbox, out Queue<DateTimeOffset>? sent))
        {
            lock (sent)
            {
                // Note: the newest entry is this request's (requests of one session run one at a time).
                var kept = sent.ToList();
                if (kept.Count > 0)
                {
                    kept.RemoveAt(kept.Count - 1);
                }
                sent.Clear();
                foreach (DateTimeOffset t in kept)
                {
                    sent.Enqueue(t);
                }
            }
        }
    }
}
