using Respaldo.Primary;

namespace Respaldo.Tests.Primary;

public sealed class PrimaryAvailabilityTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan UpAfter = TimeSpan.FromSeconds(120);

    private static PrimaryAvailability Run(params (int Seconds, bool Up)[] probes) =>
        PrimaryAvailability.Replay(probes.Select(p => (T0.AddSeconds(p.Seconds), p.Up)), downAfterFailures: 2, UpAfter);

    [Fact]
    public void TheFirstSuccessSaysUpAndOneFailureIsNotYetDown()
    {
        Assert.Equal(PrimaryStatus.Up, Run((0, true)).Verdict);
        Assert.Equal(PrimaryStatus.Unknown, Run((0, false)).Verdict);
        Assert.Equal(PrimaryStatus.Up, Run((0, true), (60, false)).Verdict);
    }

    [Fact]
    public void IsDownAfterTheConfiguredConsecutiveFailures()
    {
        PrimaryAvailability view = Run((0, true), (60, false), (62, false));
        Assert.Equal(PrimaryStatus.Down, view.Verdict);
        Assert.Equal(T0.AddSeconds(62), view.Since);
        // A success in between restarts the count.
        Assert.Equal(PrimaryStatus.Up, Run((0, true), (60, false), (62, true), (64, false)).Verdict);
    }

    [Fact]
    public void ComesBackUpOnlyAfterAnsweringEveryProbeForUpAfter()
    {
        PrimaryAvailability down = Run((0, false), (2, false));
        Assert.Equal(PrimaryStatus.Down, down.Verdict);
        Assert.Equal(PrimaryStatus.Down, Run((0, false), (2, false), (10, true), (70, true)).Verdict);
        Assert.Equal(PrimaryStatus.Up, Run((0, false), (2, false), (10, true), (70, true), (130, true)).Verdict);
        // A flap in the middle starts the streak again.
        Assert.Equal(PrimaryStatus.Down, Run((0, false), (2, false), (10, true), (100, false), (110, true), (200, true)).Verdict);
    }

    [Fact]
    public void ProbesFastWhileConfirmingAnOutageAndSlowlyOtherwise()
    {
        TimeSpan fast = TimeSpan.FromSeconds(2), idle = TimeSpan.FromSeconds(60);
        Assert.Equal(DateTimeOffset.MinValue, PrimaryAvailability.Unknown.NextIdleProbe(fast, idle, UpAfter));
        Assert.Equal(T0.AddSeconds(60), Run((0, true)).NextIdleProbe(fast, idle, UpAfter));
        Assert.Equal(T0.AddSeconds(62), Run((0, true), (60, false)).NextIdleProbe(fast, idle, UpAfter));
        Assert.Equal(T0.AddSeconds(122), Run((0, true), (60, false), (62, false)).NextIdleProbe(fast, idle, UpAfter));
        // Confirming a return: no later than the end of upAfter, never sooner than the fast interval.
        Assert.Equal(T0.AddSeconds(70), Run((0, false), (2, false), (10, true)).NextIdleProbe(fast, idle, UpAfter));
        Assert.Equal(T0.AddSeconds(130), Run((0, false), (2, false), (10, true), (70, true)).NextIdleProbe(fast, idle, UpAfter));
    }
}
