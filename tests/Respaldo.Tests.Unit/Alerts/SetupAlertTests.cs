using System.Text.Json;
using Respaldo.Alerts;
using Respaldo.Configuration;
using Respaldo.Events;

namespace Respaldo.Tests.Alerts;

/// <summary>A failing set-up check alerts once, then daily while it stays failing; a new fault at once.</summary>
public sealed class SetupAlertTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);

    private static readonly FailingSetupCheck NoMx20 = new("mx-backup", "suempresa.es", "the backup is not among MX 10 mail.suempresa.es", "publish suempresa.es. IN MX 20 mail-backup.suempresa.es.");
    private static readonly FailingSetupCheck NoAddress = new("mx-target-address", "suempresa.es: old.suempresa.es", "no address", "publish old.suempresa.es. IN A");

    private static SetupChecked Checked(DateTimeOffset at, params FailingSetupCheck[] failing) => new("suempresa", at, failing);

    [Fact]
    public void AFailingCheckIsToldOnceThenDailyWhileItStays()
    {
        var policy = new AlertPolicy(_ => TimeSpan.FromMinutes(15));
        Alert first = Assert.Single(policy.Observe(Checked(T0, NoMx20)));
        Assert.Equal((AlertKind.SetupFailing, "setup-failing"), (first.Kind, first.Kind.WireName()));
        Assert.Equal([NoMx20], first.SetupChecks);
        Assert.Empty(policy.Observe(Checked(T0.AddHours(4), NoMx20)));
        Assert.Empty(policy.Observe(Checked(T0.AddHours(20), NoMx20)));
        Assert.Single(policy.Observe(Checked(T0.AddHours(24), NoMx20)));
    }

    [Fact]
    public void ANewFaultIsToldAtOnceWithEveryCheckStillFailing()
    {
        var policy = new AlertPolicy(_ => TimeSpan.FromMinutes(15));
        Assert.Single(policy.Observe(Checked(T0, NoMx20)));
        Alert second = Assert.Single(policy.Observe(Checked(T0.AddHours(4), NoMx20, NoAddress)));
        Assert.Equal([NoMx20, NoAddress], second.SetupChecks);
    }

    [Fact]
    public void AFaultFixedAndBrokenAgainIsNewAgain()
    {
        var policy = new AlertPolicy(_ => TimeSpan.FromMinutes(15));
        Assert.Single(policy.Observe(Checked(T0, NoMx20)));
        Assert.Empty(policy.Observe(Checked(T0.AddHours(4))));
        Assert.Single(policy.Observe(Checked(T0.AddHours(8), NoMx20)));
    }

    [Fact]
    public void TheMailAndTheWebhookCarryEachFaultAndItsFix()
    {
        var tenant = new Tenant
        {
            Id = "suempresa", Name = "Su Empresa", Domains = [new DomainPattern("suempresa.es", false)],
            Primary = new PrimaryServer([new HostPort("mail.suempresa.es", 25)], TlsPolicy.None, null, "", 1, 0),
            Mailboxes = [], AlertEmails = ["it@external.example"], DashboardUsers = [],
        };
        Alert alert = Assert.Single(new AlertPolicy(_ => TimeSpan.FromMinutes(15)).Observe(Checked(T0, NoMx20)));
        Assert.Contains("1 set-up check(s) failing", AlertComposer.Subject(alert, tenant), StringComparison.Ordinal);
        string body = AlertComposer.Body(alert, tenant);
        Assert.Contains("fallos", body, StringComparison.Ordinal);
        Assert.Contains($"mx-backup suempresa.es: {NoMx20.Seen}\n    fix: {NoMx20.Fix}", body, StringComparison.Ordinal);
        using JsonDocument json = JsonDocument.Parse(AlertComposer.Payload(alert, tenant));
        JsonElement check = Assert.Single(json.RootElement.GetProperty("checks").EnumerateArray());
        Assert.Equal(("setup-failing", "mx-backup", NoMx20.Fix),
            (json.RootElement.GetProperty("kind").GetString(), check.GetProperty("check").GetString(), check.GetProperty("fix").GetString()));
    }
}
