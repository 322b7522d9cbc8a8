using Respaldo.Configuration;
using Respaldo.HandOver;

namespace Respaldo.Tests.HandOver;

public sealed class MessageDeadlineTests
{
    private static readonly TimeSpan Command = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Data = TimeSpan.FromMinutes(5);

    [Fact]
    public void AnEmptyMessageGetsTheEnvelopesRepliesAndTheFinalReply()
    {
        Assert.Equal(TimeSpan.FromSeconds((4 * 60) + 300), MessageDeadline.For(0, Command, Data, 10 * 1024));
    }

    [Fact]
    public void TheDeadlineGrowsWithTheSizeAtTheMinimumRate()
    {
        TimeSpan small = MessageDeadline.For(1024 * 1024, Command, Data, 10 * 1024);
        TimeSpan big = MessageDeadline.For(50L * 1024 * 1024, Command, Data, 10 * 1024);
        Assert.Equal(TimeSpan.FromSeconds(102.4), small - MessageDeadline.For(0, Command, Data, 10 * 1024));
        Assert.Equal(TimeSpan.FromSeconds(5017.6), big - small);
    }

    /// <summary>Issue 16: 50 MiB to a primary that reads 75 kB/s takes about 700 s, more than the old allowance of 690 s.</summary>
    [Fact]
    public void AFiftyMebibyteMessageToAPrimaryReadingSeventyFiveKilobytesASecondFitsItsDefaultDeadline()
    {
        long size = 50L * 1024 * 1024;
        TimeSpan transfer = TimeSpan.FromSeconds(size / 75_000.0);
        TimeSpan deadline = MessageDeadline.For(size, ControllerSettings.Default);
        Assert.True(transfer > TimeSpan.FromSeconds(690), $"{transfer}");
        Assert.True(deadline > transfer + ControllerSettings.Default.DataTimeout, $"{deadline} for {transfer}");
    }

    [Fact]
    public void ATarpitFarBelowTheMinimumRateMissesTheDeadline()
    {
        long size = 1024 * 1024;
        TimeSpan tarpit = TimeSpan.FromSeconds(size / 100.0);
        Assert.True(MessageDeadline.For(size, ControllerSettings.Default) < tarpit);
    }

    [Fact]
    public void AMinimumRateOfZeroIsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MessageDeadline.For(1, Command, Data, 0));
    }
}

public sealed class SendBufferTests
{
    /// <summary>What the kernel holds after the final dot must reach a primary at the minimum rate before dataTimeout runs out.</summary>
    [Theory]
    [InlineData(10 * 1024, 60, 300, 307_200)]
    [InlineData(10 * 1024, 600, 120, 614_400)]
    [InlineData(16 * 1024, 2, 15, 64 * 1024)]
    [InlineData(1024 * 1024, 600, 3600, 4 * 1024 * 1024)]
    public void TheSendBufferIsWhatTheMinimumRateDrainsInHalfTheShorterTimeout(long rate, double commandSeconds, double dataSeconds, int expected)
    {
        var pace = ControllerSettings.Default with { CommandTimeout = TimeSpan.FromSeconds(commandSeconds), DataTimeout = TimeSpan.FromSeconds(dataSeconds) };
        pace = pace with { MinimumDataRate = rate };
        Assert.Equal(expected, MessageDeadline.SendBuffer(pace));
    }
}
