using Respaldo.Drills;

namespace Respaldo.Tests.Drills;

public sealed class DrillScheduleTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Day = TimeSpan.FromDays(1);
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    [Fact]
    public void WithNoDrillYetTheFirstIsOneIntervalAway() =>
        Assert.Equal(Now + Day, DrillSchedule.FirstDue(Now, null, Day, Minute));

    [Fact]
    public void ARestartKeepsTheScheduleOfTheLastDrill() =>
        Assert.Equal(Now + TimeSpan.FromHours(4), DrillSchedule.FirstDue(Now, Now - TimeSpan.FromHours(20), Day, Minute));

    [Fact]
    public void AnOverdueDrillRunsSoonAfterTheStartNotAtOnce() =>
        Assert.Equal(Now + Minute, DrillSchedule.FirstDue(Now, Now - TimeSpan.FromDays(3), Day, Minute));

    [Fact]
    public void ALastDrillInTheFutureNeverPostponesMoreThanOneInterval() =>
        Assert.Equal(Now + Day, DrillSchedule.FirstDue(Now, Now + TimeSpan.FromDays(5), Day, Minute));
}
