using Respaldo.Alerts;
using Respaldo.HandOver;
using Respaldo.Mailboxes;
using Respaldo.Supervision;
using Respaldo.Events;

namespace Respaldo.Tests.Alerts;

public sealed class AlertPolicyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(15);

    private static MessageArrived Arrival(DateTimeOffset at, string mailbox = "info@suempresa.es", long size = 1000) =>
        new("suempresa", at, new WaitingMessage("suempresa", mailbox, $"/m/{mailbox}", $"{at.ToUnixTimeMilliseconds()}.M1P1.host,S={size}", $"/m/{mailbox}/new/x", size, at));

    private static AlertPolicy Policy() => new(_ => Interval);

    [Fact]
    public void TellsTheFirstArrivalAtOnceAndTheRestInOneDigestPerInterval()
    {
        AlertPolicy policy = Policy();
        Alert first = Assert.Single(policy.Observe(Arrival(T0)));
        Assert.Equal(AlertKind.FirstArrival, first.Kind);
        Assert.Equal("info@suempresa.es", Assert.Single(first.Mailboxes).Mailbox);

        Assert.Empty(policy.Observe(Arrival(T0.AddSeconds(10))));
        Assert.Empty(policy.Observe(Arrival(T0.AddSeconds(20), "ventas@suempresa.es", 500)));
        Assert.Empty(policy.Observe(Arrival(T0.AddSeconds(30))));
        Assert.Empty(policy.Tick(T0.AddMinutes(14)));

        Alert digest = Assert.Single(policy.Tick(T0.AddMinutes(15)));
        Assert.Equal(AlertKind.ArrivalDigest, digest.Kind);
        Assert.Equal(3, digest.MessageCount);
        Assert.Equal([("info@suempresa.es", 2, 2000L), ("ventas@suempresa.es", 1, 500L)], digest.Mailboxes.Select(m => (m.Mailbox, m.Count, m.Bytes)));
        Assert.Empty(policy.Tick(T0.AddMinutes(40)));
    }

    [Fact]
    public void ANewOutageIsToldAtOnceEvenWithinTheInterval()
    {
        AlertPolicy policy = Policy();
        Assert.Single(policy.Observe(Arrival(T0)));
        Assert.Single(policy.Observe(new PrimaryWentDown("suempresa", T0.AddSeconds(1), "mail:25", "refused")));
        Assert.Empty(policy.Observe(new PrimaryCameUp("suempresa", T0.AddMinutes(1), "mail:25", T0)));
        Alert again = Assert.Single(policy.Observe(Arrival(T0.AddMinutes(2))));
        Assert.Equal(AlertKind.FirstArrival, again.Kind);
    }

    [Fact]
    public void APrimaryFoundDownAfterTheFirstArrivalIsTheSameOutage()
    {
        AlertPolicy policy = Policy();
        Assert.Single(policy.Observe(Arrival(T0)));
        Assert.Equal(AlertKind.PrimaryDown, Assert.Single(policy.Observe(new PrimaryWentDown("suempresa", T0.AddSeconds(1), "mail:25", "refused"))).Kind);
        Assert.Empty(policy.Observe(Arrival(T0.AddSeconds(2))));
    }

    [Fact]
    public void SaysPrimaryDownOnceAndPrimaryBackWithTheHandOverThatFollows()
    {
        AlertPolicy policy = Policy();
        Alert down = Assert.Single(policy.Observe(new PrimaryWentDown("suempresa", T0, "mail:25", "Connect: refused")));
        Assert.Equal(AlertKind.PrimaryDown, down.Kind);
        Assert.Equal("Connect: refused", down.Reason);
        Assert.Empty(policy.Observe(new PrimaryWentDown("suempresa", T0.AddSeconds(5), "mail:25", "again")));

        Assert.Empty(policy.Observe(new PrimaryCameUp("suempresa", T0.AddMinutes(10), "mail:25", T0)));
        var progress = new HandOverProgress("suempresa", "mail:25", 7, T0.AddMinutes(10));
        Alert back = Assert.Single(policy.Observe(new HandOverFinished("suempresa", T0.AddMinutes(10).AddSeconds(3), progress)));
        Assert.Equal(AlertKind.PrimaryBack, back.Kind);
        Assert.Equal(T0, back.DownSince);
        Assert.Empty(policy.Observe(new HandOverFinished("suempresa", T0.AddMinutes(11), progress)));
    }

    [Fact]
    public void PrimaryBackWithoutAHandOverIsToldAfterAWhile()
    {
        AlertPolicy policy = Policy();
        policy.Observe(new PrimaryWentDown("suempresa", T0, "mail:25", "refused"));
        policy.Observe(new PrimaryCameUp("suempresa", T0.AddMinutes(1), "mail:25", T0));
        Assert.Empty(policy.Tick(T0.AddMinutes(2)));
        Alert back = Assert.Single(policy.Tick(T0.AddMinutes(1) + AlertPolicy.BackWithoutHandOver));
        Assert.Equal(0, back.HandedOver);
    }

    [Fact]
    public void NoPrimaryBackWithoutAPrimaryDownBefore()
    {
        AlertPolicy policy = Policy();
        Assert.Empty(policy.Observe(new PrimaryCameUp("suempresa", T0, "mail:25", null)));
        Assert.Empty(policy.Observe(new HandOverFinished("suempresa", T0, new HandOverProgress("suempresa", "mail:25", 1, T0))));
    }

    [Fact]
    public void HeldMessagesAreToldFirstAtOnceThenInADigest()
    {
        AlertPolicy policy = Policy();
        MessageHeld Held(int i) => new("suempresa", T0.AddSeconds(i), Arrival(T0).Message with { BaseName = $"m{i}" }, $"/held/m{i}", "550 5.1.1 unknown user");
        Alert first = Assert.Single(policy.Observe(Held(0)));
        Assert.Equal(AlertKind.MessageHeld, first.Kind);
        Assert.Empty(policy.Observe(Held(1)));
        Assert.Empty(policy.Observe(Held(2)));
        Alert digest = Assert.Single(policy.Tick(T0 + Interval));
        Assert.Equal(["m1", "m2"], digest.Held.Select(h => h.Message));
    }

    [Theory]
    [InlineData(new[] { 0.5, 0.81, 0.85, 0.96, 0.97 }, new[] { "storage-warning", "storage-critical" })]
    [InlineData(new[] { 0.81, 0.78, 0.82, 0.70, 0.81 }, new[] { "storage-warning", "storage-warning" })]
    [InlineData(new[] { 0.1, 0.2, 0.3 }, new string[0])]
    public void StorageAlertsOnCrossingUpwardsWithHysteresis(double[] samples, string[] expected)
    {
        AlertPolicy policy = Policy();
        var kinds = new List<string>();
        for (int i = 0; i < samples.Length; i++)
        {
            kinds.AddRange(policy.ObserveStorage("suempresa", T0.AddMinutes(i), samples[i], (long)(samples[i] * 1000), 1000, 1 << 30, diskLow: false)
                .Select(a => a.Kind.WireName()));
        }
        Assert.Equal(expected, kinds);
    }

    [Fact]
    public void ADiskUnderItsFloorIsCritical()
    {
        Alert a = Assert.Single(Policy().ObserveStorage("suempresa", T0, 0.01, 10, 1000, 100, diskLow: true));
        Assert.Equal(AlertKind.StorageCritical, a.Kind);
    }
}
