using System.Net;
using Respaldo.Security;

namespace Respaldo.Tests.Security;

public sealed class LoginThrottleTests
{
    private sealed class Clock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static readonly IPAddress A = IPAddress.Parse("192.0.2.1");
    private static readonly IPAddress B = IPAddress.Parse("192.0.2.2");

    [Fact]
    public void LocksAUserAfterFiveFailuresUntilTheyAgeOut()
    {
        var clock = new Clock(new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.Zero));
        var throttle = new LoginThrottle(clock);
        for (int i = 0; i < 5; i++)
        {
            Assert.False(throttle.IsBlocked("Juan", A, out _));
            throttle.Failed("juan", i % 2 == 0 ? A : B);
            clock.Now += TimeSpan.FromMinutes(1);
        }
        Assert.True(throttle.IsBlocked("juan", IPAddress.Parse("198.51.100.7"), out TimeSpan wait));
        Assert.Equal(TimeSpan.FromMinutes(10), wait);
        Assert.False(throttle.IsBlocked("ana", A, out _));
        clock.Now += wait;
        Assert.False(throttle.IsBlocked("juan", A, out _));
    }

    [Fact]
    public void LocksAnAddressThatTriesManyNames()
    {
        var clock = new Clock(DateTimeOffset.UnixEpoch);
        var throttle = new LoginThrottle(clock);
        for (int i = 0; i < 20; i++)
        {
            Assert.False(throttle.IsBlocked($"user{i}", A, out _));
            throttle.Failed($"user{i}", A);
        }
        Assert.True(throttle.IsBlocked("someone-new", A, out _));
        Assert.False(throttle.IsBlocked("someone-new", B, out _));
    }

    [Fact]
    public void ASuccessClearsTheUsersFailures()
    {
        var throttle = new LoginThrottle(new Clock(DateTimeOffset.UnixEpoch));
        for (int i = 0; i < 4; i++)
        {
            throttle.Failed("juan", A);
        }
        throttle.Succeeded("juan");
        throttle.Failed("juan", A);
        Assert.False(throttle.IsBlocked("juan", A, out _));
    }
}
