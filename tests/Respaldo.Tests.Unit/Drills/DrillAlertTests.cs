using Respaldo.Alerts;
using Respaldo.Drills;
using Respaldo.Events;

namespace Respaldo.Tests.Drills;

/// <summary>A failed drill alerts at once, then once a day while drills keep failing; a passed one clears it.</summary>
public sealed class DrillAlertTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private static DrillFinished Drill(DateTimeOffset at, bool passed) => new DrillResult(
        "0011223344556677", "suempresa", "info@suempresa.test", at, passed ? DrillOutcome.Passed : DrillOutcome.Failed,
        passed ? "" : "primary", passed ? "handed over: 250 2.0.0 Ok" : "the primary deferred it: 450 4.7.1 greylisted", at, at, at, passed ? at : null, "m1").ToEvent(at);

    [Fact]
    public void AFailedDrillAlertsOnceThenDailyAndAPassedOneClearsIt()
    {
        var policy = new AlertPolicy(_ => TimeSpan.FromMinutes(15));
        Alert first = Assert.Single(policy.Observe(Drill(T0, passed: false)));
        Assert.Equal((AlertKind.DrillFailing, "drill-failing"), (first.Kind, first.Kind.WireName()));
        Assert.Equal("the primary deferred it: 450 4.7.1 greylisted", first.Reason);
        Assert.Empty(policy.Observe(Drill(T0.AddHours(6), passed: false)));
        Assert.Single(policy.Observe(Drill(T0.AddDays(1), passed: false)));
        Assert.Empty(policy.Observe(Drill(T0.AddDays(1).AddHours(1), passed: true)));
        Assert.Single(policy.Observe(Drill(T0.AddDays(1).AddHours(2), passed: false)));
    }

    [Fact]
    public void TheAlertSaysWhatFailedInSpanishAndEnglish()
    {
        var tenant = new Respaldo.Configuration.Tenant
        {
            Id = "suempresa", Name = "Su Empresa", Domains = [],
            Primary = new Respaldo.Configuration.PrimaryServer([new Respaldo.Configuration.HostPort("mail.suempresa.es", 25)], Respaldo.Configuration.TlsPolicy.None, null, "", 1, 0),
            Mailboxes = [], AlertEmails = [], DashboardUsers = [],
        };
        Alert alert = Assert.Single(new AlertPolicy(_ => TimeSpan.FromMinutes(15)).Observe(Drill(T0, passed: false)));
        Assert.Equal("[Respaldo] Su Empresa: el simulacro ha fallado / the fire drill failed", AlertComposer.Subject(alert, tenant));
        string body = AlertComposer.Body(alert, tenant);
        Assert.Contains("Un simulacro (0011223344556677)", body, StringComparison.Ordinal);
        Assert.Contains("A fire drill (0011223344556677) sent a test message to info@suempresa.test", body, StringComparison.Ordinal);
        Assert.Contains("450 4.7.1 greylisted", body, StringComparison.Ordinal);
        Assert.Contains("\"drill\":{\"id\":\"0011223344556677\"", AlertComposer.Payload(alert, tenant), StringComparison.Ordinal);
    }
}
