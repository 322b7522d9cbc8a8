using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Alerts;

/// <summary>A lab of its own for the alert tests: its tenant's webhook points at <see cref="Webhook"/>, digests every few seconds.</summary>
public sealed class AlertLabFixture : LabFixture
{
    public const int DigestSeconds = 5;

    public AlertLabFixture()
        : this(new WebhookReceiver())
    {
    }

    private AlertLabFixture(WebhookReceiver webhook)
        : base("alerts", new Dictionary<string, string>
        {
            ["LAB_WEBHOOK_URL"] = webhook.Url,
            ["LAB_ALERT_DIGEST_SECONDS"] = DigestSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, configured: false)
    {
        Webhook = webhook;
    }

    public WebhookReceiver Webhook { get; }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Webhook.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class AlertLabCollection : ICollectionFixture<AlertLabFixture>
{
    public const string Name = "alert lab";
}
