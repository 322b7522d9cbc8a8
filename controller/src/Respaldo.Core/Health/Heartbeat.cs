namespace Respaldo.Health;

/// <summary>
/// A loop's proof of life for the systemd watchdog. The loop calls <see cref="Beat"/> each
/// time it goes around, saying how long it may legitimately take until the next beat (a wait
/// it will wake from, an SMTP command bounded by its timeout). The watchdog stops pinging when
/// a beat is overdue: the loop is stuck, and systemd restarts the daemon (WatchdogSec=).
/// </summary>
public sealed class Heartbeat(string name, TimeProvider time)
{
    private long _deadlineTicks = long.MaxValue;

    /// <summary>The longest an idle wait of the watcher lasts before it goes around and beats again; how often a hand-over's progress is looked at.</summary>
    public static TimeSpan LoopInterval { get; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The longest a tenant loop sleeps when nothing is due: it beats for the whole wait, and
    /// anything that could make work due sooner wakes it at once. Note: only a cap on a lost
    /// wake-up; 1,000 tenants going around every <see cref="LoopInterval"/> were 200 wakes a second
    /// with nothing to do (issue 14's idle CPU).
    /// </summary>
    public static TimeSpan RestInterval { get; } = TimeSpan.FromSeconds(60);

    /// <summary>What beats: "tenant suempresa", "mailbox watcher".</summary>
    public string Name { get; } = name;

    /// <summary>When the next beat is due; <see cref="DateTimeOffset.MaxValue"/> before the first one.</summary>
    public DateTimeOffset Deadline
    {
        get
        {
            long ticks = Interlocked.Read(ref _deadlineTicks);
            return ticks == long.MaxValue ? DateTimeOffset.MaxValue : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    /// <summary>Alive now; the next beat comes within <paramref name="allowance"/>.</summary>
    public void Beat(TimeSpan allowance)
    {
        DateTimeOffset deadline = time.GetUtcNow() + allowance;
        Interlocked.Exchange(ref _deadlineTicks, deadline.UtcTicks);
    }

    /// <summary>The loop ended on purpose (shutdown, reload): it no longer owes a beat.</summary>
    public void Stop() => Interlocked.Exchange(ref _deadlineTicks, long.MaxValue);

    public bool IsOverdue(DateTimeOffset now) => now > Deadline;

    /// <summary>The names of the overdue heartbeats among <paramref name="beats"/>; empty when all are alive.</summary>
    public static IReadOnlyList<string> Overdue(IEnumerable<Heartbeat> beats, DateTimeOffset now) =>
        beats.Where(b => b.IsOverdue(now)).Select(b => b.Name).ToList();
}
