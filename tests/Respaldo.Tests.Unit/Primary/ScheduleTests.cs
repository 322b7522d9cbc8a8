using Respaldo.HandOver;
using Respaldo.Primary;

namespace Respaldo.Tests.Primary;

public sealed class ScheduleTests
{
    [Theory]
    [InlineData(0, 2)]
    [InlineData(1, 2)]
    [InlineData(2, 3)]
    [InlineData(3, 4.5)]
    [InlineData(20, 60)]
    [InlineData(1000, 60)]
    public void ProbesBackOffByHalfUpToTheCeiling(int failures, double seconds) =>
        Assert.Equal(seconds, ProbeSchedule.Next(failures, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60)).TotalSeconds, 3);

    [Fact]
    public void RetriesDoubleFromFifteenSecondsUpToTheCeiling()
    {
        var retries = new RetrySchedule(TimeSpan.FromMinutes(10));
        DateTimeOffset t = DateTimeOffset.UnixEpoch;
        Assert.True(retries.IsDue("k", t));
        retries.Deferred("k", t);
        Assert.False(retries.IsDue("k", t.AddSeconds(14)));
        Assert.True(retries.IsDue("k", t.AddSeconds(15)));
        retries.Deferred("k", t);
        Assert.Equal(t.AddSeconds(30), retries.NextDue(["k"]));
        Assert.Equal(600, RetrySchedule.Delay(40, TimeSpan.FromMinutes(10)).TotalSeconds);
        retries.Retain(new HashSet<string>());
        Assert.Equal(0, retries.Attempts("k"));
    }

    [Fact]
    public void StateRemembersSinceWhenItIsDown()
    {
        ProbeResult Probe(bool up, int second) => new(DateTimeOffset.FromUnixTimeSeconds(second), "a",
            new Respaldo.Configuration.HostPort("p", 25), up, Respaldo.Smtp.SmtpStage.Connect, null, "", TimeSpan.Zero,
            Respaldo.Smtp.SmtpCapabilities.None, false);
        PrimaryState s = PrimaryState.Unknown.After(Probe(false, 10)).After(Probe(false, 20));
        Assert.Equal(PrimaryStatus.Down, s.Status);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(10), s.Since);
        Assert.Equal(2, s.ConsecutiveFailures);
        s = s.After(Probe(true, 30));
        Assert.Equal((PrimaryStatus.Up, 0), (s.Status, s.ConsecutiveFailures));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(30), s.Since);
    }
}
