using Microsoft.Extensions.Time.Testing;
using Respaldo.Supervision;
using Respaldo.Health;

namespace Respaldo.Tests.Supervision;

public sealed class HeartbeatTests
{
    [Fact]
    public void ALoopThatHasNotStartedOwesNoBeat()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.Zero));
        var beat = new Heartbeat("tenant a", time);
        time.Advance(TimeSpan.FromDays(1));
        Assert.False(beat.IsOverdue(time.GetUtcNow()));
    }

    [Fact]
    public void ABeatIsOverdueOnlyAfterItsAllowance()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.Zero));
        var beat = new Heartbeat("tenant a", time);
        beat.Beat(TimeSpan.FromSeconds(30));

        Assert.False(beat.IsOverdue(time.GetUtcNow() + TimeSpan.FromSeconds(30)));
        Assert.True(beat.IsOverdue(time.GetUtcNow() + TimeSpan.FromSeconds(31)));
    }

    [Fact]
    public void EachBeatMovesTheDeadlineAndStopForgetsIt()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.Zero));
        var beat = new Heartbeat("tenant a", time);
        beat.Beat(TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(9));
        beat.Beat(TimeSpan.FromSeconds(10));
        Assert.False(beat.IsOverdue(time.GetUtcNow() + TimeSpan.FromSeconds(10)));

        beat.Stop();
        Assert.False(beat.IsOverdue(time.GetUtcNow() + TimeSpan.FromHours(1)));
    }

    [Fact]
    public void OverdueNamesOnlyTheLoopsThatStoppedBeating()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.Zero));
        var a = new Heartbeat("tenant a", time);
        var b = new Heartbeat("mailbox watcher", time);
        a.Beat(TimeSpan.FromSeconds(5));
        b.Beat(TimeSpan.FromMinutes(15));
        time.Advance(TimeSpan.FromSeconds(6));

        Assert.Equal(["tenant a"], Heartbeat.Overdue([a, b], time.GetUtcNow()));
    }
}
