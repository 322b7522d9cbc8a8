using MimeKit;
using Respaldo.Webmail;

namespace Respaldo.Tests.Webmail;

public sealed class OutgoingAddressesTests
{
    [Fact]
    public void ParsesCommasSemicolonsAndDisplayNames()
    {
        Assert.Equal(AddressProblem.None, OutgoingAddresses.TryParse("Ana <ana@example.org>; luis@example.org, \"Pérez, M.\" <m@example.org>", out List<MailboxAddress> list));
        Assert.Equal(["ana@example.org", "luis@example.org", "m@example.org"], list.Select(a => a.Address));
        Assert.Equal("Pérez, M.", list[2].Name);
    }

    [Theory]
    [InlineData("not an address")]
    [InlineData("ana@")]
    [InlineData("ana@example.org\r\nBcc: victim@example.org")]
    public void RefusesWhatIsNotAnAddress(string field)
    {
        AddressProblem problem = OutgoingAddresses.TryParse(field, out List<MailboxAddress> list);
        Assert.True(problem == AddressProblem.Unparsable || list.All(a => !a.Address.Contains('\n', StringComparison.Ordinal) && a.Address.Contains('@', StringComparison.Ordinal)),
            $"{problem}: {string.Join(",", list)}");
        Assert.DoesNotContain(list, a => a.Address.Contains("Bcc", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void AnEmptyFieldIsNoRecipientOnlyWhenAllAreEmpty()
    {
        Assert.Equal(AddressProblem.None, OutgoingAddresses.TryParse("  ", out List<MailboxAddress> empty));
        Assert.Equal(AddressProblem.NoRecipient, OutgoingAddresses.CheckRecipients(empty, empty));
        OutgoingAddresses.TryParse("ana@example.org", out List<MailboxAddress> one);
        Assert.Equal(AddressProblem.None, OutgoingAddresses.CheckRecipients(empty, one));
    }

    [Fact]
    public void LimitsTheNumberOfRecipients()
    {
        string many = string.Join(",", Enumerable.Range(0, OutgoingAddresses.MaxRecipients + 1).Select(i => $"r{i}@example.org"));
        Assert.Equal(AddressProblem.TooMany, OutgoingAddresses.TryParse(many, out _));
    }

    [Theory]
    [InlineData("info@suempresa.test", "info@suempresa.test", true)]
    [InlineData("info@suempresa.test", "INFO@SUEMPRESA.TEST", true)]
    [InlineData("info@suempresa.test", "ventas@suempresa.test", false)]
    [InlineData("info@suempresa.test", "info@suempresa.test.evil.test", false)]
    [InlineData("info@suempresa.test", "", false)]
    [InlineData("info@suempresa.test", null, false)]
    public void TheSenderIsTheMailboxItselfOnly(string mailbox, string? from, bool own)
    {
        Assert.Equal(own, OutgoingAddresses.IsOwnSender(mailbox, from));
    }

    [Fact]
    public void ReplyAllLeavesOutTheMailboxAndDuplicates()
    {
        MimeMessage original = MimeMessage.Load(new MemoryStream("From: Ana <ana@example.org>\r\nTo: info@suempresa.test, Luis <luis@example.org>\r\nCc: ANA@example.org, marta@example.org, Info@suempresa.test\r\nSubject: x\r\n\r\nbody\r\n"u8.ToArray()));
        (List<MailboxAddress> to, List<MailboxAddress> cc) = OutgoingAddresses.ReplyAll(original, "info@suempresa.test");
        Assert.Equal(["ana@example.org", "luis@example.org"], to.Select(a => a.Address));
        Assert.Equal(["marta@example.org"], cc.Select(a => a.Address));
    }

    [Fact]
    public void AReplyGoesToReplyToWhenThereIsOne()
    {
        MimeMessage original = MimeMessage.Load(new MemoryStream("From: list@example.org\r\nReply-To: ana@example.org\r\nTo: info@suempresa.test\r\nSubject: x\r\n\r\nbody\r\n"u8.ToArray()));
        Assert.Equal(["ana@example.org"], OutgoingAddresses.ReplyTarget(original).Select(a => a.Address));
    }

    [Theory]
    [InlineData("Hola", "Re: Hola")]
    [InlineData("Re: Hola", "Re: Hola")]
    [InlineData("RE: Hola", "RE: Hola")]
    [InlineData(null, "Re: ")]
    public void ReplySubjectsDoNotStack(string? subject, string expected)
    {
        Assert.Equal(expected, Replies.ReplySubject(subject));
    }

    [Theory]
    [InlineData("Hola", "Fwd: Hola")]
    [InlineData("Fwd: Hola", "Fwd: Hola")]
    [InlineData("RV: Hola", "RV: Hola")]
    public void ForwardSubjectsDoNotStack(string subject, string expected)
    {
        Assert.Equal(expected, Replies.ForwardSubject(subject));
    }
}
