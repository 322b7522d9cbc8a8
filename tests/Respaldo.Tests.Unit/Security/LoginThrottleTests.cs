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
            Assert.True(throttle.TryBegin(i == 0 ? "Juan" : "juan", i % 2 == 0 ? A : B, out _));
            clock.Now += TimeSpan.FromMinutes(1);
        }
        Assert.False(throttle.TryBegin("juan", IPAddress.Parse("198.51.100.7"), out TimeSpan wait));
        Assert.Equal(TimeSpan.FromMinutes(10), wait);
        Assert.True(throttle.TryBegin("ana", A, out _));
        clock.Now += wait;
        Assert.True(throttle.TryBegin("juan", A, out _));
    }

    [Fact]
    public void LocksAnAddressThatTriesManyNames()
    {
        var clock = new Clock(DateTimeOffset.UnixEpoch);
        var throttle = new LoginThrottle(clock);
        for (int i = 0; i < 20; i++)
        {
            Assert.True(throttle.TryBegin($"user{i}", A, out _));
        }
        Assert.False(throttle.TryBegin("someone-new", A, out _));
        Assert.True(throttle.TryBegin("someone-new", B, out _));
    }

    [Fact]
    public void AnIpv6ClientCountsByItsSlash64()
    {
        var throttle = new LoginThrottle(new Clock(DateTimeOffset.UnixEpoch));
        for (int i = 0; i < 20; i++)
        {
            Assert.True(throttle.TryBegin($"user{i}", IPAddress.Parse($"2001:db8:1:2::{i + 1:x}"), out _));
        }
        Assert.False(throttle.TryBegin("other", IPAddress.Parse("2001:db8:1:2:ffff::1"), out _));
        Assert.True(throttle.TryBegin("other", IPAddress.Parse("2001:db8:1:3::1"), out _));
    }

    [Fact]
    public void ParallelAttemptsCannotTestMoreGuessesThanTheLimit()
    {
        var throttle = new LoginThrottle(new Clock(DateTimeOffset.UnixEpoch));
        int admitted = 0;
        Parallel.For(0, 200, i =>
        {
            if (throttle.TryBegin("admin", IPAddress.Parse($"198.51.100.{i % 250 + 1}"), out _))
            {
                Interlocked.Increment(ref admitted);
            }
        });
        Assert.Equal(throttle.MaxPerUser, admitted);
    }

    [Fact]
    public void ASuccessClearsTheUsersFailuresAndIsNotCountedForTheAddress()
    {
        var throttle = new LoginThrottle(new Clock(DateTimeOffset.UnixEpoch)) { MaxPerAddress = 5 };
        for (int i = 0; i < 4; i++)
        {
            Assert.True(throttle.TryBegin("juan", A, out _));
        }
        Assert.True(throttle.TryBegin("juan", A, out _));
        throttle.Succeeded("juan", A);
        Assert.True(throttle.TryBegin("juan", A, out _));
        Assert.False(throttle.TryBegin("juan", A, out _));
    }

    [Fact]
    public void ForgetsNamesWhoseFailuresAgedOut()
    {
        var clock = new Clock(DateTimeOffset.UnixEpoch);
        var throttle = new LoginThrottle(clock) { MaxPerAddress = int.MaxValue };
        for (int i = 0; i < 1000; i++)
        {
            throttle.TryBegin($"random{i}", A, out _);
        }
        Assert.True(throttle.Tracked > 1000);
        clock.Now += TimeSpan.FromHours(1);
        for (int i = 0; i < 300; i++)
        {
            throttle.TryBegin("juan", B, out _);
            throttle.Succeeded("juan", B);
        }
        Assert.True(throttle.Tracked < 10, $"{throttle.Tracked} keys kept");
    }
}
