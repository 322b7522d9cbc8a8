using Respaldo.Configuration;
using Respaldo.Continuity;
using static Respaldo.Tests.Continuity.ContinuityFacts;

namespace Respaldo.Tests.Continuity;

public sealed class ConfigurationChecksTests
{
    private const long GiB = 1L << 30;

    private static ConfigurationFacts Disk(long allocation, long free, long used = 0, RecipientFileFacts? file = null) =>
        new(allocation, GiB / 4, used, 100 * GiB, free, file);

    [Fact]
    public void AnAllocationThatFitsInTheFreeSpaceIsOk() =>
        Assert.Equal(CheckStatus.Ok, ConfigurationChecks.Evaluate(Tenant(), Disk(20 * GiB, 50 * GiB)).One(ConfigurationChecks.Storage).Status);

    [Fact]
    public void AnAllocationLargerThanTheFreeSpaceIsAWarningWithTheSizeThatWouldFit()
    {
        SetupCheck c = ConfigurationChecks.Evaluate(Tenant(), Disk(20 * GiB, 10 * GiB, used: 2 * GiB)).One(ConfigurationChecks.Storage);
        Assert.Equal(CheckStatus.Warning, c.Status);
        Assert.Contains("to 11.8 GiB", c.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void ADiskBelowItsMinimumFreeIsFailing() =>
        Assert.Equal(CheckStatus.Failing, ConfigurationChecks.Evaluate(Tenant(), Disk(20 * GiB, GiB / 8)).One(ConfigurationChecks.Storage).Status);

    [Fact]
    public void AlertsOnlyToTheTenantsOwnDomainsAreFailing()
    {
        SetupCheck c = ConfigurationChecks.Evaluate(Tenant(alerts: ["it@suempresa.es", "jefe@norte.suempresa.es"]), Disk(GiB, 50 * GiB)).One(ConfigurationChecks.Alerts);
        Assert.Equal(CheckStatus.Failing, c.Status);
        Assert.Contains("outside the tenant's domains", c.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void AnAlertAddressInsideBesideOneOutsideIsAWarning() =>
        Assert.Equal(CheckStatus.Warning,
            ConfigurationChecks.Evaluate(Tenant(alerts: ["it@suempresa.es", "it@external.example"]), Disk(GiB, 50 * GiB)).One(ConfigurationChecks.Alerts).Status);

    [Fact]
    public void AWebhookAloneIsEnoughForAlerts() =>
        Assert.Equal(CheckStatus.Ok,
            ConfigurationChecks.Evaluate(Tenant(alerts: []) with { AlertWebhook = new Uri("https://hooks.example/x") }, Disk(GiB, 50 * GiB)).One(ConfigurationChecks.Alerts).Status);

    [Fact]
    public void NoRecipientsKnownIsFailing()
    {
        Tenant t = Tenant() with { Mailboxes = [] };
        Assert.Equal(CheckStatus.Failing, ConfigurationChecks.Evaluate(t, Disk(GiB, 50 * GiB)).One(ConfigurationChecks.Recipients).Status);
    }

    [Fact]
    public void LearningRecipientsIsOkWithoutAList()
    {
        Tenant t = Tenant() with { Mailboxes = [], Recipients = RecipientSettings.Static with { Learn = true } };
        Assert.Equal(CheckStatus.Ok, ConfigurationChecks.Evaluate(t, Disk(GiB, 50 * GiB)).One(ConfigurationChecks.Recipients).Status);
    }

    [Fact]
    public void AnUnreadableRecipientFileIsFailing()
    {
        Tenant t = Tenant() with { Recipients = RecipientSettings.Static with { File = "/etc/respaldo/none.txt" } };
        SetupCheck c = ConfigurationChecks.Evaluate(t, Disk(GiB, 50 * GiB, file: new RecipientFileFacts("/etc/respaldo/none.txt", false, 0, "not found"))).One(ConfigurationChecks.Recipients);
        Assert.Equal(CheckStatus.Failing, c.Status);
        Assert.Contains("/etc/respaldo/none.txt", c.Fix, StringComparison.Ordinal);
    }
}
