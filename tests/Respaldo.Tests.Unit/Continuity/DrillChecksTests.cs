using Respaldo.Configuration;
using Respaldo.Continuity;
using Respaldo.Journaling;
using static Respaldo.Tests.Continuity.ContinuityFacts;

namespace Respaldo.Tests.Continuity;

public sealed class DrillChecksTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private static Tenant Drilled(TimeSpan every = default) =>
        Tenant() with { Drill = new DrillSettings("drill@suempresa.es", every, TimeSpan.FromMinutes(2)) };

    private static DrillRecord Drill(string outcome, string step, string reason, TimeSpan ago) => new(
        "0123456789abcdef", "suempresa", "drill@suempresa.es", Now - ago, outcome, step, reason,
        Now - ago + TimeSpan.FromSeconds(0.2), Now - ago + TimeSpan.FromSeconds(0.3), Now - ago + TimeSpan.FromSeconds(0.4),
        outcome == "passed" ? Now - ago + TimeSpan.FromSeconds(1.7) : null, "1765108800.M1P2.backup");

    [Fact]
    public void ARecentPassedDrillIsOkWithHowLongTheHandOverTook()
    {
        SetupCheck c = DrillChecks.Evaluate(Drilled(), Drill("passed", "", "", TimeSpan.FromHours(3)), Now);
        Assert.Equal(CheckStatus.Ok, c.Status);
        Assert.Equal("drill@suempresa.es", c.Subject);
        Assert.Contains("handed over 1.5 s after the backup accepted it", c.Seen, StringComparison.Ordinal);
    }

    [Fact]
    public void AGreylistingPrimaryIsFailingWithItsReplyAndWhatToAskItsAdmin()
    {
        SetupCheck c = DrillChecks.Evaluate(Drilled(), Drill("failed", "primary", "the primary deferred it: 450 4.7.1 greylisted", TimeSpan.FromMinutes(5)), Now);
        Assert.Equal(CheckStatus.Failing, c.Status);
        Assert.Contains("450 4.7.1 greylisted", c.Seen, StringComparison.Ordinal);
        Assert.Contains("without greylisting", c.Fix, StringComparison.Ordinal);
        Assert.True(c.Alerts);
    }

    [Fact]
    public void APrimaryDownDuringTheDrillProvesNothing()
    {
        SetupCheck c = DrillChecks.Evaluate(Drilled(), Drill("failed", "primary-down", "primary down", TimeSpan.FromMinutes(5)), Now);
        Assert.Equal(CheckStatus.CouldNotCheck, c.Status);
        Assert.False(c.Alerts);
    }

    [Fact]
    public void ADrillThatFailedAtTheBackupIsFailingWithItsStep()
    {
        SetupCheck c = DrillChecks.Evaluate(Drilled(), Drill("failed", "store", "not seen at the backup within 120 s", TimeSpan.FromMinutes(5)), Now);
        Assert.Equal(CheckStatus.Failing, c.Status);
        Assert.Contains("step store", c.Seen, StringComparison.Ordinal);
    }

    [Fact]
    public void NoDrillAddressOrNoDrillYetOrAnOldOneIsAWarning()
    {
        SetupCheck none = DrillChecks.Evaluate(Tenant(), null, Now);
        Assert.Equal(CheckStatus.Warning, none.Status);
        Assert.Contains("tenants[].drill.address", none.Fix, StringComparison.Ordinal);

        SetupCheck never = DrillChecks.Evaluate(Drilled(), null, Now);
        Assert.Equal(CheckStatus.Warning, never.Status);
        Assert.Contains("respaldoctl drill suempresa", never.Fix, StringComparison.Ordinal);
        Assert.Contains("everySeconds", never.Fix, StringComparison.Ordinal);
        Assert.DoesNotContain("everySeconds", DrillChecks.Evaluate(Drilled(TimeSpan.FromDays(1)), null, Now).Fix, StringComparison.Ordinal);

        SetupCheck old = DrillChecks.Evaluate(Drilled(), Drill("passed", "", "", TimeSpan.FromDays(8)), Now);
        Assert.Equal(CheckStatus.Warning, old.Status);
    }

    [Fact]
    public void APassedDrillSaysWhatItCannotProveAboutThePrimarysTrust()
    {
        SetupCheck c = DrillChecks.Evaluate(Drilled(), Drill("passed", "", "", TimeSpan.FromHours(1)), Now);
        Assert.Equal(CheckStatus.Ok, c.Status);
        Assert.Contains("confirm with the primary's admin", c.Seen, StringComparison.Ordinal);
        Assert.Contains("mynetworks", c.Seen, StringComparison.Ordinal);
        Assert.Contains("ARC seal", c.Seen, StringComparison.Ordinal);
    }
}
