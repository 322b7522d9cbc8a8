using Microsoft.Extensions.Time.Testing;
using Respaldo.Supervision;
using Respaldo.Health;

namespace Respaldo.Tests.Supervision;

/// <summary>The tenant loop's heartbeat while a hand-over runs: from bytes moved, not from messages settled.</summary>
public sealed class ProgressBeatTests
{
    private static readonly TimeSpan Command = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Data = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Issue 16: 50 MiB at 75 kB/s is about 700 s of one message. Beating only when a message
    /// settled, the loop was overdue before it ended and the watchdog restarted the daemon; the
    /// supervisor looks every 5 s, and the bytes moved each time.
    /// </summary>
    [Fact]
    public void ABigMessageToASlowPrimaryThatKeepsReadingNeverGoesOverdue()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero));
        var heartbeat = new Heartbeat("tenant a", time);
        var beat = new ProgressBeat(heartbeat, ProgressBeat.AllowanceFor(Command, Data, 1, 0, Margin));
        var settledOnly = new Heartbeat("tenant a (old rule)", time);
        settledOnly.Beat((Command * 6) + Data + Margin);
        long bytes = 0;
        bool oldRuleOverdue = false;
        for (int look = 0; look < 150; look++)
        {
            beat.Observe(bytes);
            time.Advance(TimeSpan.FromSeconds(5));
            bytes += 5 * 75_000;
            Assert.False(heartbeat.IsOverdue(time.GetUtcNow()), $"overdue after {look * 5} s");
            oldRuleOverdue |= settledOnly.IsOverdue(time.GetUtcNow());
        }
        Assert.True(oldRuleOverdue);
    }

    [Fact]
    public void AHandOverWhoseBytesStandStillIsOverdueOnlyAfterTheAllowance()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero));
        var heartbeat = new Heartbeat("tenant a", time);
        var beat = new ProgressBeat(heartbeat, TimeSpan.FromSeconds(100));
        Assert.True(beat.Observe(42));
        DateTimeOffset start = time.GetUtcNow();
        for (int look = 0; look < 30; look++)
        {
            time.Advance(TimeSpan.FromSeconds(5));
            Assert.False(beat.Observe(42));
        }
        Assert.False(heartbeat.IsOverdue(start + TimeSpan.FromSeconds(100)));
        Assert.True(heartbeat.IsOverdue(start + TimeSpan.FromSeconds(101)));
        Assert.True(beat.Observe(43));
        Assert.False(heartbeat.IsOverdue(time.GetUtcNow() + TimeSpan.FromSeconds(100)));
    }

    [Fact]
    public void TheAllowanceCoversTheLongestSilenceTheTimeoutsAllowAndNotTheMessagesLength()
    {
        // The reply to a final dot (dataTimeout) is the longest silence...
        Assert.Equal(TimeSpan.FromSeconds(330), ProgressBeat.AllowanceFor(Command, Data, 4, 0, Margin));
        // ...unless connecting and the greeting take longer (two command timeouts)...
        Assert.Equal(TimeSpan.FromSeconds(430), ProgressBeat.AllowanceFor(TimeSpan.FromSeconds(200), TimeSpan.FromSeconds(100), 1, 0, Margin));
        // ...and a rate limit makes each of the connections wait its slot.
        Assert.Equal(TimeSpan.FromSeconds(338), ProgressBeat.AllowanceFor(Command, Data, 4, 0.5, Margin));
    }
}
