using Respaldo.Configuration;

namespace Respaldo.Alerts;

/// <summary>An alert in words, as recorded in the journal and sent on every channel.</summary>
public sealed record ComposedAlert(string Key, string TenantId, string Kind, DateTimeOffset At, string Subject, string Body, string Payload)
{
    public static ComposedAlert From(Alert a, Tenant tenant) =>
        new(a.Key, a.TenantId, a.Kind.WireName(), a.At, AlertComposer.Subject(a, tenant), AlertComposer.Body(a, tenant), AlertComposer.Payload(a, tenant));
}

/// <summary>One way of telling a tenant: e-mail or webhook.</summary>
public interface IAlertChannel
{
    /// <summary>"email" or "webhook": the journal's column prefix.</summary>
    string Name { get; }

    /// <summary>True when the tenant configured this channel.</summary>
    bool AppliesTo(Tenant tenant);

    /// <summary>Delivers the alert or throws; every exception counts as a failed attempt to retry later.</summary>
    Task SendAsync(ComposedAlert alert, Tenant tenant, CancellationToken cancellationToken);
}
