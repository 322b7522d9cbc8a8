using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Respaldo.Continuity;
using static Respaldo.Tests.Continuity.ContinuityFacts;

namespace Respaldo.Tests.Continuity;

public sealed class CertificateChecksTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);

    private readonly string _dir = Directory.CreateTempSubdirectory("respaldo-cert-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static CertificateFacts Facts(DateTimeOffset notAfter, params string[] names) =>
        new("/etc/respaldo/tls/backup.crt", true, "", Now.AddDays(-60), notAfter, names, "R11");

    /// <summary>A real PEM file: a self-signed certificate for <paramref name="names"/>, valid until <paramref name="notAfter"/>.</summary>
    private string Pem(DateTimeOffset notAfter, params string[] names)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={names[0]}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        foreach (string n in names)
        {
            san.AddDnsName(n);
        }
        request.CertificateExtensions.Add(san.Build());
        using X509Certificate2 cert = request.CreateSelfSigned(Now.AddDays(-1), notAfter);
        string path = Path.Combine(_dir, "backup.crt");
        File.WriteAllText(path, cert.ExportCertificatePem());
        return path;
    }

    [Fact]
    public void ACertificateForTheMxNameValidForMonthsIsOk() =>
        Assert.Equal(CheckStatus.Ok, CertificateChecks.Evaluate(Facts(Now.AddDays(80), BackupName), BackupName, Now).Status);

    [Fact]
    public void ACertificateExpiringWithin21DaysIsAWarningThatSaysWhen()
    {
        SetupCheck c = CertificateChecks.Evaluate(Facts(Now.AddDays(10), BackupName), BackupName, Now);
        Assert.Equal(CheckStatus.Warning, c.Status);
        Assert.Contains("expires in 10 days", c.Seen, StringComparison.Ordinal);
        Assert.Contains("renew", c.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void AnExpiringCertificatesWarningRaisesTheAlertOtherWarningsDoNot()
    {
        Assert.True(CertificateChecks.Evaluate(Facts(Now.AddDays(10), BackupName), BackupName, Now).Alerts);
        Assert.True(CertificateChecks.Evaluate(Facts(Now.AddDays(-1), BackupName), BackupName, Now).Alerts);
        Assert.False(CertificateChecks.Evaluate(Facts(Now.AddDays(80), BackupName), BackupName, Now).Alerts);
        Assert.False(CertificateChecks.Evaluate(Facts(Now.AddDays(80), "mail.suempresa.es"), BackupName, Now).Alerts);
        Assert.False(CertificateChecks.Evaluate(null, BackupName, Now).Alerts);
        Assert.False(new SetupCheck(TlsaChecks.Tlsa, "_25._tcp." + BackupName, CheckStatus.Warning, "", "", "").Alerts);
        Assert.True(new SetupCheck(TlsaChecks.Tlsa, "_25._tcp." + BackupName, CheckStatus.Failing, "", "", "").Alerts);
    }

    [Fact]
    public void TheGathererTellsASelfSignedCertificateIsNotTrusted()
    {
        CertificateFacts facts = SetupFactGatherer.Certificate(Pem(Now.AddDays(80), BackupName));
        Assert.False(facts.Trusted);
        Assert.NotEqual("", facts.TrustError);
    }

    [Fact]
    public void AnExpiredCertificateIsAWarning()
    {
        SetupCheck c = CertificateChecks.Evaluate(Facts(Now.AddDays(-1), BackupName), BackupName, Now);
        Assert.Equal(CheckStatus.Warning, c.Status);
        Assert.EndsWith("expired", c.Seen, StringComparison.Ordinal);
    }

    [Fact]
    public void ACertificateForOtherNamesIsAWarning()
    {
        SetupCheck c = CertificateChecks.Evaluate(Facts(Now.AddDays(80), "mail.suempresa.es", "*.other.es"), BackupName, Now);
        Assert.Equal(CheckStatus.Warning, c.Status);
        Assert.Contains($"does not cover {BackupName}", c.Seen, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("*.suempresa.es", "mail-backup.suempresa.es", true)]
    [InlineData("*.suempresa.es", "a.mail-backup.suempresa.es", false)]
    [InlineData("*.suempresa.es", "suempresa.es", false)]
    [InlineData("Mail-Backup.Suempresa.es", "mail-backup.suempresa.es.", true)]
    public void AWildcardCoversExactlyOneLabel(string name, string host, bool covers) => Assert.Equal(covers, CertificateChecks.Covers(name, host));

    [Fact]
    public void NoCertificateIsAWarningWhoseFixIsTheSetting()
    {
        SetupCheck c = CertificateChecks.Evaluate(null, BackupName, Now);
        Assert.Equal(CheckStatus.Warning, c.Status);
        Assert.Contains("intake.certificateFile", c.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void TheGathererReadsARealPemFilesNamesAndEnd()
    {
        CertificateFacts facts = SetupFactGatherer.Certificate(Pem(Now.AddDays(5), BackupName, "mx2.suempresa.es"));
        Assert.True(facts.Readable, facts.Error);
        Assert.Equal([BackupName, "mx2.suempresa.es"], facts.Names);
        Assert.Equal(Now.AddDays(5).UtcDateTime, facts.NotAfter.UtcDateTime, TimeSpan.FromSeconds(1));
        Assert.Equal(CheckStatus.Warning, CertificateChecks.Evaluate(facts, BackupName, Now).Status);
    }

    [Fact]
    public void AMissingFileCouldNotBeChecked()
    {
        CertificateFacts facts = SetupFactGatherer.Certificate(Path.Combine(_dir, "none.crt"));
        Assert.False(facts.Readable);
        Assert.Equal(CheckStatus.CouldNotCheck, CertificateChecks.Evaluate(facts, BackupName, Now).Status);
    }
}
