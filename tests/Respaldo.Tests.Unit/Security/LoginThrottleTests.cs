using System.Net;
using Microsoft.Extensions.Time.Testing;
using Respaldo.Security;

namespace Respaldo.Tests.Security;

public sealed class LoginThrottleTests
{
    private static readonly IPAddress A = IPAddress.Parse("192.0.2.1");
    private static readonly IPAddress B = IPAddress.Parse("192.0.2.2");
    private static readonly IPAddress Attacker = IPAddress.Parse("203.0.113.66");

    private static FakeTimeProvider Clock() => new(new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.Zero));

    [Fact]
    public void AClientGetsThreeFreeGuessesForANameThenADoublingWait()
    {
        FakeTimeProvider clock = Clock();
        var throttle = new LoginThrottle(clock);
        for (int i = 0; i < 3; i++)
        {
            Assert.True(throttle.Begin(i == 0 ? "Juan" : "juan", A).Admitted);
        }
        foreach (int seconds in new[] { 1, 2, 4, 8 })
        {
            LoginAdmission refused = throttle.Begin("juan", A);
            Assert.False(refused.Admitted);
            Assert.Equal(TimeSpan.FromSeconds(seconds), refused.RetryAfter);
            clock.Advance(TimeSpan.FromSeconds(seconds) - TimeSpan.FromTicks(1));
            Assert.False(throttle.Begin("juan", A).Admitted);
            clock.Advance(TimeSpan.FromTicks(1));
            Assert.True(throttle.Begin("juan", A).Admitted);
        }
    }

    [Fact]
    public void TheClientsWaitHasACeilingAndAgesOut()
    {
        FakeTimeProvider clock = Clock();
        var throttle = new LoginThrottle(clock) { MaxPerAddress = int.MaxValue, Window = TimeSpan.FromHours(1) };
        for (int i = 0; i < 15; i++)
        {
            LoginAdmission a = throttle.Begin("juan", A);
            if (!a.Admitted)
            {
                Assert.True(a.RetryAfter <= throttle.MaxClientDelay, $"{a.RetryAfter}");
                clock.Advance(a.RetryAfter);
                Assert.True(throttle.Begin("juan", A).Admitted);
            }
        }
        Assert.Equal(throttle.MaxClientDelay, throttle.Begin("juan", A).RetryAfter);
        clock.Advance(TimeSpan.FromHours(1));
        for (int i = 0; i < 3; i++)
        {
            Assert.True(throttle.Begin("juan", A).Admitted);
        }
    }

    [Fact]
    public void ALockOutAttackFromOneAddressDoesNotStopTheUserFromAnother()
    {
        FakeTimeProvider clock = Clock();
        var throttle = new LoginThrottle(clock);
        // The attacker knows the name (a webmail name is a public address) and keeps trying
        // from its address as fast as it is let: the whole window long.
        int refused = 0;
        for (int i = 0; i < 200; i++)
        {
            if (!throttle.Begin("info@suempresa.test", Attacker).Admitted)
            {
                refused++;
            }
            clock.Advance(TimeSpan.FromSeconds(4));
        }
        Assert.True(refused > 150, $"{refused} refused");
        // The real user is let in; at most a few seconds later, since the name is under attack.
        LoginAdmission user = throttle.Begin("info@suempresa.test", A);
        Assert.True(user.Admitted);
        Assert.True(user.Delay <= throttle.MaxUserDelay, $"{user.Delay}");
        throttle.Succeeded("info@suempresa.test", A);
    }

    [Fact]
    public void ANameUnderAttackFromManyAddressesIsSlowedForEveryoneButNeverRefused()
    {
        FakeTimeProvider clock = Clock();
        var throttle = new LoginThrottle(clock);
        for (int i = 0; i < 500; i++)
        {
            LoginAdmission a = throttle.Begin("admin", IPAddress.Parse($"198.51.{i / 250}.{i % 250 + 1}"));
            Assert.True(a.Admitted);
            Assert.True(a.Delay <= throttle.MaxUserDelay);
        }
        LoginAdmission user = throttle.Begin("admin", A);
        Assert.True(user.Admitted);
        Assert.Equal(throttle.MaxUserDelay, user.Delay);
        // The first delayed attempt waits a second, one more per failure after it.
        var fresh = new LoginThrottle(clock);
        for (int i = 0; i < fresh.SlowAfterPerUser; i++)
        {
            Assert.Equal(TimeSpan.Zero, fresh.Begin("ana", IPAddress.Parse($"198.51.100.{i + 1}")).Delay);
        }
        Assert.Equal(TimeSpan.FromSeconds(1), fresh.Begin("ana", A).Delay);
        Assert.Equal(TimeSpan.FromSeconds(2), fresh.Begin("ana", B).Delay);
    }

    [Fact]
    public void LocksAnAddressThatTriesManyNames()
    {
        FakeTimeProvider clock = Clock();
        var throttle = new LoginThrottle(clock);
        for (int i = 0; i < 20; i++)
        {
            Assert.True(throttle.Begin($"user{i}", A).Admitted);
        }
        LoginAdmission refused = throttle.Begin("someone-new", A);
        Assert.False(refused.Admitted);
        Assert.Equal(throttle.Window, refused.RetryAfter);
        Assert.True(throttle.Begin("someone-new", B).Admitted);
        clock.Advance(throttle.Window);
        Assert.True(throttle.Begin("someone-new", A).Admitted);
    }

    [Fact]
    public void AnIpv6ClientCountsByItsSlash64()
    {
        var throttle = new LoginThrottle(Clock());
        for (int i = 0; i < 3; i++)
        {
            Assert.True(throttle.Begin("juan", IPAddress.Parse($"2001:db8:1:2::{i + 1:x}")).Admitted);
        }
        Assert.False(throttle.Begin("juan", IPAddress.Parse("2001:db8:1:2:ffff::1")).Admitted);
        Assert.True(throttle.Begin("juan", IPAddress.Parse("2001:db8:1:3::1")).Admitted);
        for (int i = 0; i < 17; i++)
        {
            Assert.True(throttle.Begin($"user{i}", IPAddress.Parse($"2001:db8:1:2::{i + 100:x}")).Admitted);
        }
        Assert.False(throttle.Begin("other", IPAddress.Parse("2001:db8:1:2:ffff::1")).Admitted);
    }

    [Fact]
    public void ParallelAttemptsFromOneClientCannotTestMoreGuessesThanItsFreeOnes()
    {
        var throttle = new LoginThrottle(Clock());
        int admitted = 0;
        Parallel.For(0, 200, _ =>
        {
            if (throttle.Begin("admin", Attacker).Admitted)
            {
                Interlocked.Increment(ref admitted);
            }
        });
        Assert.Equal(throttle.FreePerClient, admitted);
    }

    [Fact]
    public void ASuccessClearsTheClientsFailuresAndIsNotCountedForTheAddress()
    {
        var throttle = new LoginThrottle(Clock()) { MaxPerAddress = 5 };
        for (int i = 0; i < 3; i++)
        {
            Assert.True(throttle.Begin("juan", A).Admitted);
        }
        throttle.Succeeded("juan", A);
        Assert.True(throttle.Begin("juan", A).Admitted);
        Assert.True(throttle.Begin("juan", A).Admitted);
        Assert.True(throttle.Begin("juan", A).Admitted);
        // Five failures counted for the address now (two before the success, three after).
        Assert.False(throttle.Begin("ana", A).Admitted);
    }

    [Fact]
    public void ForgetsNamesWhoseFailuresAgedOut()
    {
        FakeTimeProvider clock = Clock();
        var throttle = new LoginThrottle(clock) { MaxPerAddress = int.MaxValue };
        for (int i = 0; i < 1000; i++)
        {
            throttle.Begin($"random{i}", A);
        }
        Assert.True(throttle.Tracked > 2000);
        clock.Advance(TimeSpan.FromHours(1));
        for (int i = 0; i < 300; i++)
        {
            throttle.Begin("juan", B);
            throttle.Succeeded("juan", B);
        }
        Assert.True(throttle.Tracked < 10, $"{throttle.Tracked} keys kept");
    }
}
