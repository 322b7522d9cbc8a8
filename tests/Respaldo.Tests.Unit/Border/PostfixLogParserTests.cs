using Respaldo.Border;

namespace Respaldo.Tests.Border;

/// <summary>Lines as Postfix 3.7 wrote them in the lab (maillog_file), and what each counts as.</summary>
public sealed class PostfixLogParserTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 2, 1, 15, 12, TimeSpan.Zero);

    [Fact]
    public void ADnsFailureAtTheEndOfDataIsADeferralForTheRecipientsTenant()
    {
        IntakeVerdict v = PostfixLogParser.Parse(
            "Dec 02 01:15:12 mail-backup postfix/cleanup[31543]: 93F7735F821: milter-reject: END-OF-MESSAGE from unknown[127.0.0.1]: " +
            "4.7.1 Temporary DNS failure while checking the sender, try again later [dnstemp]; from=<a@sender.test> to=<info@suempresa.test> proto=ESMTP helo=<mx.sender.test>", At)!;
        Assert.Equal(RefusalReason.DnsTemporary, v.Reason);
        Assert.False(v.Permanent);
        Assert.Equal("4.7.1", v.Code);
        Assert.Equal("info@suempresa.test", v.Recipient);
        Assert.Equal("suempresa.test", v.RecipientDomain);
        Assert.Equal("a@sender.test", v.Sender);
        Assert.Equal("127.0.0.1", v.Client);
        Assert.Equal(At, v.At);
    }

    [Theory]
    [InlineData("5.7.1 Rejected by the sender domain's DMARC policy [dmarc]", RefusalReason.Dmarc)]
    [InlineData("5.7.1 Client address is listed in a DNS block list [dnsbl]", RefusalReason.Dnsbl)]
    [InlineData("5.7.1 Message rejected as spam [spam]", RefusalReason.Spam)]
    [InlineData("5.7.1 Gtube pattern", RefusalReason.Spam)]
    [InlineData("5.7.1 Virus found [virus]", RefusalReason.Virus)]
    public void ARefusalCountsByItsTag(string text, RefusalReason reason)
    {
        IntakeVerdict v = PostfixLogParser.Parse(
            $"Dec 02 01:15:20 mail-backup postfix/cleanup[31543]: 65DA435E001: milter-reject: END-OF-MESSAGE from unknown[127.0.0.9]: {text}; " +
            "from=<a@suempresa.test> to=<info@suempresa.test> proto=ESMTP helo=<mail.suempresa.test>", At)!;
        Assert.Equal(reason, v.Reason);
        Assert.True(v.Permanent);
        Assert.Equal("127.0.0.9", v.Client);
    }

    [Fact]
    public void AnUnreachableMilterCountsOnceAtMail()
    {
        string[] lines =
        [
            "Dec 02 01:19:07 mail-backup postfix/smtpd[862]: warning: connect to Milter service inet:127.0.0.1:14032: Connection refused",
            "Dec 02 01:19:07 mail-backup postfix/smtpd[862]: NOQUEUE: milter-reject: CONNECT from unknown[127.0.0.1]: 451 4.7.1 Service unavailable - try again later; proto=SMTP",
            "Dec 02 01:19:07 mail-backup postfix/smtpd[862]: NOQUEUE: milter-reject: EHLO from unknown[127.0.0.1]: 451 4.7.1 Service unavailable - try again later; proto=SMTP helo=<mail.suempresa.test>",
            "Dec 02 01:19:07 mail-backup postfix/smtpd[862]: NOQUEUE: milter-reject: MAIL from unknown[127.0.0.1]: 451 4.7.1 Service unavailable - try again later; from=<a@suempresa.test> proto=ESMTP helo=<mail.suempresa.test>",
        ];
        IntakeVerdict v = Assert.Single(lines.Select(l => PostfixLogParser.Parse(l, At)).OfType<IntakeVerdict>());
        Assert.Equal(RefusalReason.FilterUnavailable, v.Reason);
        Assert.False(v.Permanent);
        Assert.Equal("451 4.7.1", v.Code);
        Assert.Null(v.RecipientDomain);
    }

    [Fact]
    public void PostscreensPregreetAndDnsblRefusalsNameTheRecipient()
    {
        IntakeVerdict pregreet = PostfixLogParser.Parse(
            "Dec 02 01:30:00 mail-backup postfix/postscreen[100]: NOQUEUE: reject: RCPT from [127.0.0.3]:40000: 550 5.5.1 Protocol error; " +
            "from=<a@b.test>, to=<ventas@suempresa.test>, proto=ESMTP, helo=<x>", At)!;
        Assert.Equal(RefusalReason.Pregreet, pregreet.Reason);
        Assert.Equal("ventas@suempresa.test", pregreet.Recipient);
        Assert.Equal("127.0.0.3", pregreet.Client);
        Assert.Equal("550 5.5.1", pregreet.Code);
        IntakeVerdict listed = PostfixLogParser.Parse(
            "Dec 02 01:30:00 mail-backup postfix/postscreen[100]: NOQUEUE: reject: RCPT from [127.0.0.2]:40001: 550 5.7.1 Service unavailable; " +
            "client [127.0.0.2] blocked using zen.spamhaus.org; from=<a@b.test>, to=<info@otra.test>, proto=ESMTP, helo=<x>", At)!;
        Assert.Equal(RefusalReason.Dnsbl, listed.Reason);
        Assert.Equal("otra.test", listed.RecipientDomain);
    }

    [Theory]
    [InlineData("Dec 02 01:30:00 mail-backup postfix/smtpd[5]: NOQUEUE: reject: RCPT from unknown[127.0.0.1]: 550 5.1.1 <nadie@suempresa.test>: Recipient address rejected: User unknown; from=<a@b> to=<nadie@suempresa.test> proto=ESMTP helo=<x>")]
    [InlineData("Dec 02 01:15:12 mail-backup postfix/postscreen[31161]: PASS NEW [127.0.0.1]:50596")]
    [InlineData("Dec 02 01:15:12 mail-backup postfix/smtpd[1]: 3159B35E001: client=unknown[127.0.0.1]")]
    [InlineData("")]
    public void OtherLinesAreNotTheBorders(string line) => Assert.Null(PostfixLogParser.Parse(line, At));
}
