using Respaldo.Configuration;
using Respaldo.Continuity;
using Respaldo.Primary;
using Respaldo.Smtp;
using static Respaldo.Tests.Continuity.ContinuityFacts;

namespace Respaldo.Tests.Continuity;

public sealed class PrimaryChecksTests
{
    private const long BackupLimit = 50_000_000;

    private static ProbeResult Probe(bool up, SmtpStage stage, string reason, long? size = null) =>
        new(DateTimeOffset.UnixEpoch, "suempresa", new HostPort("mail.suempresa.es", 25), up, stage, null, reason, TimeSpan.FromMilliseconds(12),
            SmtpCapabilities.None with { Extended = true, Size = size is not null, MaxSize = size }, false);

    [Fact]
    public void APrimaryThatTakesTheProbeRecipientWithALargeEnoughSizeIsOk()
    {
        IReadOnlyList<SetupCheck> checks = PrimaryChecks.Evaluate(Tenant(), [Probe(true, SmtpStage.Quit, "accepts mail", 100_000_000)], BackupLimit);
        Assert.Equal([(PrimaryChecks.Reachable, CheckStatus.Ok), (PrimaryChecks.Recipient, CheckStatus.Ok), (PrimaryChecks.Size, CheckStatus.Ok)], checks.Select(c => (c.Id, c.Status)));
    }

    [Fact]
    public void APrimaryThatDoesNotConnectIsFailingAndTheRestCouldNotBeChecked()
    {
        IReadOnlyList<SetupCheck> checks = PrimaryChecks.Evaluate(Tenant(), [Probe(false, SmtpStage.Connect, "connection refused")], BackupLimit);
        Assert.Equal(CheckStatus.Failing, checks.One(PrimaryChecks.Reachable).Status);
        Assert.Contains("connection refused", checks.One(PrimaryChecks.Reachable).Seen, StringComparison.Ordinal);
        Assert.Equal(CheckStatus.CouldNotCheck, checks.One(PrimaryChecks.Recipient).Status);
        Assert.Equal(CheckStatus.CouldNotCheck, checks.One(PrimaryChecks.Size).Status);
    }

    [Fact]
    public void ARefusedProbeRecipientIsFailingWhileThePrimaryIsReachable()
    {
        IReadOnlyList<SetupCheck> checks = PrimaryChecks.Evaluate(Tenant(), [Probe(false, SmtpStage.RcptTo, "RCPT TO:<postmaster@suempresa.es> refused: 450 greylisted")], BackupLimit);
        Assert.Equal(CheckStatus.Ok, checks.One(PrimaryChecks.Reachable).Status);
        Assert.Equal(CheckStatus.Failing, checks.One(PrimaryChecks.Recipient).Status);
        Assert.Contains("greylisted", checks.One(PrimaryChecks.Recipient).Seen, StringComparison.Ordinal);
    }

    [Fact]
    public void NoProbeRecipientIsAWarningWhoseFixIsTheSetting()
    {
        Tenant t = Tenant() with { Primary = Tenant().Primary with { ProbeRecipient = null } };
        SetupCheck c = PrimaryChecks.Evaluate(t, [Probe(true, SmtpStage.Quit, "accepts mail")], BackupLimit).One(PrimaryChecks.Recipient);
        Assert.Equal(CheckStatus.Warning, c.Status);
        Assert.Contains("probeRecipient", c.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void APrimarySizeBelowTheBackupsLimitIsAWarningWithBothNumbers()
    {
        SetupCheck c = PrimaryChecks.Evaluate(Tenant(), [Probe(true, SmtpStage.Quit, "accepts mail", 10_240_000)], BackupLimit).One(PrimaryChecks.Size);
        Assert.Equal(CheckStatus.Warning, c.Status);
        Assert.Contains("set messageSizeLimit to 10240000", c.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void NoProbeAtAllCouldNotBeChecked()
    {
        SetupCheck c = Assert.Single(PrimaryChecks.Evaluate(Tenant(), [], BackupLimit));
        Assert.Equal(CheckStatus.CouldNotCheck, c.Status);
    }
}
