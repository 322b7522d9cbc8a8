using System.Text;
using MimeKit;
using Respaldo.Bounces;

namespace Respaldo.Tests.Bounces;

/// <summary>Who may bounce a held message: only to a sender the backup's own border found aligned, unless an admin decides.</summary>
public sealed class SenderCheckTests
{
    private const string Ours = "mail-backup.suempresa.test";

    private static HeaderList Headers(string text) =>
        MimeMessage.Load(new MemoryStream(Encoding.ASCII.GetBytes(text + "From: a@b.test\nSubject: x\n\nbody\n"))).Headers;

    [Fact]
    public void SpfPassForTheEnvelopeSendersDomainIsAligned()
    {
        HeaderList h = Headers("Authentication-Results: mail-backup.suempresa.test; spf=pass smtp.mailfrom=ana@genuine.test; dkim=none; dmarc=pass header.from=genuine.test\n");
        Assert.Equal(SenderVerdict.Aligned, SenderCheck.Of(h, Ours, "ana@genuine.test"));
        Assert.Equal(SenderVerdict.Aligned, SenderCheck.Of(h, Ours, "Otro@GENUINE.test"));
    }

    [Fact]
    public void DkimPassForTheSendersDomainOrAParentIsAligned()
    {
        HeaderList h = Headers("Authentication-Results: mail-backup.suempresa.test; spf=fail smtp.mailfrom=x@mail.genuine.test; dkim=pass header.d=genuine.test header.s=s1\n");
        Assert.Equal(SenderVerdict.Aligned, SenderCheck.Of(h, Ours, "x@mail.genuine.test"));
        Assert.Equal(SenderVerdict.Aligned, SenderCheck.Of(h, Ours, "x@genuine.test"));
    }

    [Fact]
    public void BackscatterToAForgedSenderIsNotAligned()
    {
        // The attack: a spammer forges victim@forged.test as the envelope sender; SPF fails.
        Assert.Equal(SenderVerdict.NotAligned, SenderCheck.Of(Headers(
            "Authentication-Results: mail-backup.suempresa.test; spf=fail smtp.mailfrom=director@forged.test; dkim=none; dmarc=fail header.from=forged.test\n"),
            Ours, "director@forged.test"));
        // A pass for another domain (the spammer's own) says nothing about the forged one.
        Assert.Equal(SenderVerdict.NotAligned, SenderCheck.Of(Headers(
            "Authentication-Results: mail-backup.suempresa.test; spf=pass smtp.mailfrom=me@spammer.test; dkim=pass header.d=spammer.test\n"),
            Ours, "victim@forged.test"));
        // A signer below the sender's domain (perhaps a registrable one of a shared suffix) is not enough.
        Assert.Equal(SenderVerdict.NotAligned, SenderCheck.Of(Headers(
            "Authentication-Results: mail-backup.suempresa.test; dkim=pass header.d=user.forged.test\n"),
            Ours, "victim@forged.test"));
        // softfail, neutral and none are not a pass.
        Assert.Equal(SenderVerdict.NotAligned, SenderCheck.Of(Headers(
            "Authentication-Results: mail-backup.suempresa.test; spf=softfail smtp.mailfrom=victim@forged.test; dkim=neutral header.d=forged.test\n"),
            Ours, "victim@forged.test"));
    }

    [Fact]
    public void APassTheSenderWroteItselfDoesNotCount()
    {
        // Ours says fail; the forged one below it, with our name, says pass: ours counts.
        Assert.Equal(SenderVerdict.NotAligned, SenderCheck.Of(Headers(
            "Authentication-Results: mail-backup.suempresa.test; spf=fail smtp.mailfrom=victim@forged.test\n" +
            "Authentication-Results: mail-backup.suempresa.test; spf=pass smtp.mailfrom=victim@forged.test\n"),
            Ours, "victim@forged.test"));
        // Another server's word only, or none at all: not checked by us.
        Assert.Equal(SenderVerdict.NotChecked, SenderCheck.Of(Headers(
            "Authentication-Results: mx.elsewhere.test; spf=pass smtp.mailfrom=victim@forged.test\n"), Ours, "victim@forged.test"));
        Assert.Equal(SenderVerdict.NotChecked, SenderCheck.Of(Headers(""), Ours, "victim@forged.test"));
    }

    [Theory]
    [InlineData(SenderVerdict.Aligned, false, true)]
    [InlineData(SenderVerdict.NotAligned, false, false)]
    [InlineData(SenderVerdict.NotChecked, false, false)]
    [InlineData(SenderVerdict.NotAligned, true, true)]
    [InlineData(SenderVerdict.NotChecked, true, true)]
    public void OnlyAnAdminMayBounceToAnUnverifiedSender(SenderVerdict verdict, bool admin, bool may) =>
        Assert.Equal(may, SenderCheck.MayBounce(verdict, admin));
}
