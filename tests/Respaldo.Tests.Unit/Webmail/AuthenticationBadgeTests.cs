using System.Text;
using MimeKit;
using Respaldo.Webmail;

namespace Respaldo.Tests.Webmail;

public sealed class AuthenticationBadgeTests
{
    private const string Ours = "mail-backup.suempresa.test";

    private static HeaderList Headers(string text) =>
        MimeMessage.Load(new MemoryStream(Encoding.ASCII.GetBytes(text + "From: a@b.test\nSubject: x\n\nbody\n"))).Headers;

    [Fact]
    public void ReadsTheBackupsOwnResults()
    {
        AuthenticationBadge b = AuthenticationBadge.From(Headers(
            "Authentication-Results: mail-backup.suempresa.test;\n\tdkim=pass header.d=b.test header.s=s1 header.b=abc;\n" +
            "\tspf=fail (mail-backup.suempresa.test: domain of a@b.test does not designate 127.0.0.9 as permitted sender) smtp.mailfrom=a@b.test;\n" +
            "\tdmarc=pass (policy=reject) header.from=b.test\n"), Ours)!;
        Assert.Equal(new AuthenticationBadge("fail", "pass", "pass"), b);
        Assert.Equal("bad", AuthenticationBadge.Tone(b.Spf));
        Assert.Equal("ok", AuthenticationBadge.Tone(b.Dkim));
    }

    [Fact]
    public void AHeaderBelowOursIsIgnoredAndAForgedOneOnTopIsNotOurs()
    {
        AuthenticationBadge b = AuthenticationBadge.From(Headers(
            "Authentication-Results: mail-backup.suempresa.test; spf=none smtp.mailfrom=a@b.test\n" +
            "Authentication-Results: mail-backup.suempresa.test; spf=pass smtp.mailfrom=a@b.test; dkim=pass; dmarc=pass\n"), Ours)!;
        Assert.Equal(new AuthenticationBadge("none", AuthenticationBadge.NotChecked, AuthenticationBadge.NotChecked), b);
        Assert.Null(AuthenticationBadge.From(Headers("Authentication-Results: mx.elsewhere.test; spf=pass smtp.mailfrom=a@b.test\n"), Ours));
        Assert.Null(AuthenticationBadge.From(Headers(""), Ours));
    }
}
