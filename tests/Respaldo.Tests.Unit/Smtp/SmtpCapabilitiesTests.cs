using Respaldo.Smtp;

namespace Respaldo.Tests.Smtp;

public sealed class SmtpCapabilitiesTests
{
    [Fact]
    public void ReadsPostfixsEhloReply()
    {
        var reply = new SmtpReply(250, "250-mail.suempresa.test\n250-PIPELINING\n250-SIZE 104857600\n250-STARTTLS\n250-8BITMIME\n250-SMTPUTF8\n250 CHUNKING");
        SmtpCapabilities c = SmtpCapabilities.FromEhlo(reply);
        Assert.True(c.Pipelining && c.StartTls && c.EightBitMime && c.SmtpUtf8 && c.Chunking && c.Size);
        Assert.Equal(104857600, c.MaxSize);
    }

    [Theory]
    [InlineData("250-x\n250 SIZE")]
    [InlineData("250-x\n250 SIZE 0")]
    public void SizeWithoutALimitMeansNoLimit(string text)
    {
        SmtpCapabilities c = SmtpCapabilities.FromEhlo(new SmtpReply(250, text));
        Assert.True(c.Size);
        Assert.Null(c.MaxSize);
    }
}
