using Microsoft.Extensions.Time.Testing;
using Respaldo.Webmail;

namespace Respaldo.Tests.Webmail;

/// <summary>A stolen webmail password must not turn the backup into a spam source: so many messages per mailbox and hour.</summary>
public sealed class SendLimitTests
{
    [Fact]
    public void AStolenPasswordCannotSendMoreThanTheLimitInAnHour()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 9, 0, 0, TimeSpan.Zero));
        var limit = new SendLimit(clock);
        for (int i = 0; i < 3; i++)
        {
            Assert.True(limit.TryTake("info@suempresa.test", 3, out _));
            clock.Advance(TimeSpan.FromMinutes(10));
        }
        // 09:30: three in the last hour.
        Assert.False(limit.TryTake("info@suempresa.test", 3, out DateTimeOffset retry));
        Assert.Equal(new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero), retry);
        Assert.False(limit.TryTake("INFO@suempresa.test", 3, out _));
        // Another mailbox has its own count.
        Assert.True(limit.TryTake("ventas@suempresa.test", 3, out _));
        // 09:59:59 still full; at 10:00 the 09:00 message leaves the window, and only it.
        clock.Advance(TimeSpan.FromMinutes(29) + TimeSpan.FromSeconds(59));
        Assert.False(limit.TryTake("info@suempresa.test", 3, out _));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(limit.TryTake("info@suempresa.test", 3, out _));
        Assert.False(limit.TryTake("info@suempresa.test", 3, out retry));
        Assert.Equal(new DateTimeOffset(2026, 12, 2, 10, 10, 0, TimeSpan.Zero), retry);
    }

    [Fact]
    public void AMessageThatWasRefusedDoesNotCount()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 9, 0, 0, TimeSpan.Zero));
        var limit = new SendLimit(clock);
        Assert.True(limit.TryTake("info@suempresa.test", 1, out _));
        limit.GiveBack("info@suempresa.test");
        Assert.True(limit.TryTake("info@suempresa.test", 1, out _));
        Assert.False(limit.TryTake("info@suempresa.test", 1, out _));
    }
}
