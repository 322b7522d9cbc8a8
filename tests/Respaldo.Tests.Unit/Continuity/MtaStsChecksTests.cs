using Respaldo.Continuity;
using static Respaldo.Tests.Continuity.ContinuityFacts;

namespace Respaldo.Tests.Continuity;

/// <summary>The backup under a domain's MTA-STS policy: listed or not, enforced or tested, with a certificate senders accept.</summary>
public sealed class MtaStsChecksTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);

    private static readonly CertificateFacts Trusted = new("/etc/respaldo/tls/backup.crt", true, "", Now.AddDays(-10), Now.AddDays(80), [BackupName], "R11")
    {
        Trusted = true,
        TrustError = "",
    };

    private static MtaStsFacts Published(string body) =>
        new("suempresa.es", Lookups.Found<string>(["v=STSv1; id=20261207"]), new PolicyFetch(true, body, ""));

    private static string Policy(string mode, params string[] mx) =>
        $"version: STSv1\r\nmode: {mode}\r\n{string.Concat(mx.Select(m => $"mx: {m}\r\n"))}max_age: 604800\r\n";

    [Fact]
    public void WithoutARecordThereIsNoPolicyAndNothingToDo()
    {
        SetupCheck check = Assert.Single(MtaStsChecks.Evaluate(new MtaStsFacts("suempresa.es", Lookups.None<string>(), null), Trusted, BackupName, Now));
        Assert.Equal((MtaStsChecks.Policy, "suempresa.es", CheckStatus.Ok, ""), (check.Id, check.Subject, check.Status, check.Fix));
        Assert.Contains("no MTA-STS policy", check.Seen, StringComparison.Ordinal);
    }

    [Fact]
    public void ARecordLookupWithoutAnswerCouldNotBeChecked() =>
        Assert.Equal(CheckStatus.CouldNotCheck, MtaStsChecks.Evaluate(new MtaStsFacts("suempresa.es", Lookups.Failed<string>("TXT: Timeout"), null), Trusted, BackupName, Now).One(MtaStsChecks.Policy).Status);

    [Fact]
    public void APolicyThatCannotBeFetchedCouldNotBeCheckedNeverOk()
    {
        var facts = new MtaStsFacts("suempresa.es", Lookups.Found<string>(["v=STSv1; id=1"]), new PolicyFetch(false, "", "Connection refused"));
        SetupCheck check = Assert.Single(MtaStsChecks.Evaluate(facts, Trusted, BackupName, Now));
        Assert.Equal(CheckStatus.CouldNotCheck, check.Status);
        Assert.Contains("https://mta-sts.suempresa.es/.well-known/mta-sts.txt could not be fetched: Connection refused", check.Seen, StringComparison.Ordinal);
    }

    [Fact]
    public void TwoRecordsMeanNoPolicyToSenders() =>
        Assert.Equal(CheckStatus.Warning, MtaStsChecks.Evaluate(new MtaStsFacts("suempresa.es", Lookups.Found<string>(["v=STSv1; id=1", "v=STSv1; id=2"]), null), Trusted, BackupName, Now)
            .One(MtaStsChecks.Policy).Status);

    [Fact]
    public void AnEnforcedPolicyWithoutTheBackupIsFailingWithTheLineToAdd()
    {
        SetupCheck check = Assert.Single(MtaStsChecks.Evaluate(Published(Policy("enforce", "mail.suempresa.es")), Trusted, BackupName, Now));
        Assert.Equal(CheckStatus.Failing, check.Status);
        Assert.Equal($"mode enforce, mx: mail.suempresa.es: {BackupName} is not among them: senders that honour the policy will not deliver to the backup", check.Seen);
        Assert.Equal($"add the line \"mx: {BackupName}\" to https://mta-sts.suempresa.es/.well-known/mta-sts.txt, then change the id= in the _mta-sts.suempresa.es TXT record (senders fetch the policy again only when the id changes)", check.Fix);
    }

    [Fact]
    public void ATestingPolicyWithoutTheBackupIsAWarning() =>
        Assert.Equal(CheckStatus.Warning, MtaStsChecks.Evaluate(Published(Policy("testing", "mail.suempresa.es")), Trusted, BackupName, Now).One(MtaStsChecks.Policy).Status);

    [Fact]
    public void ModeNoneAsksNothingOfTheBackup() =>
        Assert.Equal(CheckStatus.Ok, Assert.Single(MtaStsChecks.Evaluate(Published("version: STSv1\nmode: none\nmax_age: 86400\n"), null, BackupName, Now)).Status);

    [Fact]
    public void APolicyServedAsHtmlIsAWarningSendersMayIgnoreIt()
    {
        MtaStsFacts html = Published(Policy("enforce", BackupName)) with { Policy = new PolicyFetch(true, Policy("enforce", BackupName), "") { MediaType = "text/html" } };
        SetupCheck check = Assert.Single(MtaStsChecks.Evaluate(html, Trusted, BackupName, Now));
        Assert.Equal((CheckStatus.Warning, "serve https://mta-sts.suempresa.es/.well-known/mta-sts.txt with Content-Type: text/plain"), (check.Status, check.Fix));
    }

    [Fact]
    public void AnInvalidPolicyIsAWarningNamingWhatIsWrong()
    {
        SetupCheck check = MtaStsChecks.Evaluate(Published("version: STSv1\nmode: enforce\nmax_age: 86400\n"), Trusted, BackupName, Now).One(MtaStsChecks.Policy);
        Assert.Equal(CheckStatus.Warning, check.Status);
        Assert.Contains("no \"mx:\" line", check.Seen, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(BackupName)]
    [InlineData("*.suempresa.es")]
    public void AListedBackupWithATrustedCertificateIsOkTwice(string pattern)
    {
        IReadOnlyList<SetupCheck> checks = MtaStsChecks.Evaluate(Published(Policy("enforce", "mail.suempresa.es", pattern)), Trusted, BackupName, Now);
        Assert.Equal([(MtaStsChecks.Policy, CheckStatus.Ok), (MtaStsChecks.PolicyCertificate, CheckStatus.Ok)], checks.Select(c => (c.Id, c.Status)));
        Assert.Contains($"matches \"mx: {pattern}\"", checks[0].Seen, StringComparison.Ordinal);
    }

    [Fact]
    public void UnderAnEnforcedPolicyAnUntrustedCertificateIsFailing()
    {
        CertificateFacts selfSigned = Trusted with { Trusted = false, TrustError = "unable to get local issuer certificate" };
        SetupCheck check = MtaStsChecks.Evaluate(Published(Policy("enforce", BackupName)), selfSigned, BackupName, Now).One(MtaStsChecks.PolicyCertificate);
        Assert.Equal((CheckStatus.Failing, $"suempresa.es: {BackupName}"), (check.Status, check.Subject));
        Assert.Contains("does not chain to a trusted CA (unable to get local issuer certificate)", check.Seen, StringComparison.Ordinal);
        Assert.Contains("from a public CA", check.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void UnderATestingPolicyACertificateForAnotherNameIsAWarning()
    {
        CertificateFacts other = Trusted with { Names = ["mail.suempresa.es"] };
        SetupCheck check = MtaStsChecks.Evaluate(Published(Policy("testing", BackupName)), other, BackupName, Now).One(MtaStsChecks.PolicyCertificate);
        Assert.Equal(CheckStatus.Warning, check.Status);
        Assert.Contains($"is for mail.suempresa.es, not {BackupName}", check.Seen, StringComparison.Ordinal);
    }

    [Fact]
    public void AnExpiredCertificateFailsAnEnforcedPolicy() =>
        Assert.Equal(CheckStatus.Failing, MtaStsChecks.Evaluate(Published(Policy("enforce", BackupName)), Trusted with { NotAfter = Now.AddDays(-1) }, BackupName, Now)
            .One(MtaStsChecks.PolicyCertificate).Status);

    [Fact]
    public void NoCertificateAtAllFailsAnEnforcedPolicy() =>
        Assert.Equal(CheckStatus.Failing, MtaStsChecks.Evaluate(Published(Policy("enforce", BackupName)), null, BackupName, Now).One(MtaStsChecks.PolicyCertificate).Status);
}
