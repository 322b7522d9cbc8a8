using Respaldo.Supervision;

namespace Respaldo.Tests.Supervision;

public sealed class HeartbeatTests
{
    private sealed class ManualTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void ALoopThatHasNotStartedOwesNoBeat()
    {
        var time = new ManualTime();
        var beat = new Heartbeat("tenant a", time);
        time.Now += TimeSpan.FromDays(1);
        Assert.False(beat.IsOverdue(time.Now));
    }

    [Fact]
    public void ABeatIsOverdueOnlyAfterItsAllowance()
    {
        var time = new ManualTime();
        var beat = new Heartbeat("tenant a", time);
        beat.Beat(TimeSpan.FromSeconds(30));

        Assert.False(beat.IsOverdue(time.Now + TimeSpan.FromSeconds(30)));
        Assert.True(beat.IsOverdue(time.Now + TimeSpan.FromSeconds(31)));
    }

    [Fact]
    public void EachBeatMovesTheDeadlineAndStopForgetsIt()
    {
        var time = new ManualTime();
        var beat = new Heartbeat("tenant a", time);
        beat.Beat(TimeSpan.FromSeconds(10));
        time.Now += TimeSpan.FromSeconds(9);
        beat.Beat(TimeSpan.FromSeconds(10));
        Assert.False(beat.IsOverdue(time.Now + TimeSpan.FromSeconds(10)));

        beat.Stop();
        Assert.False(beat.IsOverdue(time.Now + TimeSpan.FromHours(1)));
    }

    [Fact]
    public void OverdueNamesOnlyTheLoopsThatStoppedBeating()
    {
        var time = new ManualTime();
        var a = new Heartbeat("tenant a", time);
        var b = new Heartbeat("mailbox watcher", time);
        a.Beat(TimeSpan.FromSeconds(5));
        b.Beat(TimeSpan.FromMinutes(15));
        time.Now += TimeSpan.FromSeconds(6);

        Assert.Equal(["tenant a"], Heartbeat.Overdue([a, b], time.Now));
    }
}
