using Respaldo.Health;

namespace Respaldo.Supervision;

/// <summary>
/// A hand-over's proof of life from its progress, not from finished messages: it beats each
/// time the count of bytes moved (or messages settled) changes. A big message to a slow primary
/// that keeps reading keeps the loop alive for as long as its deadline allows; a loop whose
/// count stands still for longer than <paramref name="allowance"/> (the longest gap any timeout
/// permits) is stuck.
/// </summary>
public sealed class ProgressBeat(Heartbeat heartbeat, TimeSpan allowance)
{
    private long _seen = long.MinValue;

    public TimeSpan Allowance => allowance;

    /// <summary>Looks at the progress count now; beats when it moved since the last look (and at the first).</summary>
    public bool Observe(long progress)
    {
        if (progress == _seen)
        {
            return false;
        }
        _seen = progress;
        heartbeat.Beat(allowance);
        return true;
    }

    /// <summary>
    /// The longest a hand-over may go without any byte moving: connecting and the greeting
    /// (two command timeouts), the reply to a final dot (dataTimeout), the rate limit's wait
    /// for a slot, and the margin of an idle wait.
    /// </summary>
    public static TimeSpan AllowanceFor(TimeSpan commandTimeout, TimeSpan dataTimeout, int connections, double maxMessagesPerSecond, TimeSpan margin)
    {
        TimeSpan rateWait = maxMessagesPerSecond > 0 ? TimeSpan.FromSeconds(Math.Max(1, connections) / maxMessagesPerSecond) : TimeSpan.Zero;
        TimeSpan longest = commandTimeout * 2 > dataTimeout ? commandTimeout * 2 : dataTimeout;
        return longest + rateWait + margin;
    }
}
