using System.Text.Json;
using Respaldo.Alerts;
using Respaldo.Configuration;
using Respaldo.HandOver;

namespace Respaldo.Tests.Alerts;

public sealed class AlertComposerTests
{
    private static readonly Tenant Tenant = ConfigurationLoader.Parse(
        System.Text.Encoding.UTF8.GetBytes(Configuration.SampleConfiguration.Create().ToJsonString()), "/x.json").Settings!.Tenants[0];

    [Fact]
    public void ADigestSaysTheCountsPerMailboxInBothLanguagesAndInJson()
    {
        var alert = new Alert("k", "suempresa", AlertKind.ArrivalDigest, new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.Zero))
        {
            Mailboxes = [new MailboxCount("info@suempresa.test", 2, 2048), new MailboxCount("juan@norte.suempresa.test", 1, 10)],
        };
        string body = AlertComposer.Body(alert, Tenant);
        Assert.Contains("han llegado 3 mensaje(s) más", body, StringComparison.Ordinal);
        Assert.Contains("3 more message(s) reached the backup", body, StringComparison.Ordinal);
        Assert.Contains("  info@suempresa.test: 2 (", body, StringComparison.Ordinal);
        JsonElement json = JsonDocument.Parse(AlertComposer.Payload(alert, Tenant)).RootElement;
        Assert.Equal("arrival-digest", json.GetProperty("kind").GetString());
        Assert.Equal(3, json.GetProperty("messages").GetInt32());
        Assert.Equal(2048, json.GetProperty("mailboxes")[0].GetProperty("bytes").GetInt64());
        Assert.Equal("2026-11-27T10:00:00.0000000Z", json.GetProperty("at").GetString());
    }

    [Fact]
    public void PrimaryBackSaysHowManyAndHowLong()
    {
        var alert = new Alert("k", "suempresa", AlertKind.PrimaryBack, DateTimeOffset.UnixEpoch) { Host = "mail:25", HandedOver = 42, Seconds = 3.25, StillWaiting = 0 };
        Assert.Contains("42 handed over", AlertComposer.Subject(alert, Tenant), StringComparison.Ordinal);
        Assert.Contains("Handed over: 42 message(s) in 3.3 s", AlertComposer.Body(alert, Tenant), StringComparison.Ordinal);
        Assert.Equal(3.25, JsonDocument.Parse(AlertComposer.Payload(alert, Tenant)).RootElement.GetProperty("seconds").GetDouble());
    }
}
