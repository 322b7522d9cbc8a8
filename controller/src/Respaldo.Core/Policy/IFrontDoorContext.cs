using Respaldo.Configuration;
using Respaldo.Primary;

namespace Respaldo.Policy;

/// <summary>What the front door needs to know about the running controller, asked at each request.</summary>
public interface IFrontDoorContext
{
    /// <summary>The settings in force now (a reload swaps them).</summary>
    RespaldoSettings Settings { get; }

    /// <summary>The controller's view of a tenant's primary; null while the tenant is not running (mid reload).</summary>
    TenantView? Tenant(string tenantId);

    /// <summary>
    /// Storage in use, and in <paramref name="mailbox"/> if given; null while the controller does
    /// not know yet (before the first maildir scan). Asked at every RCPT and end of data: it must
    /// cost the same however many messages wait.
    /// </summary>
    Task<StorageUse?> MeasureAsync(string tenantId, string? mailbox, CancellationToken cancellationToken);
}

/// <param name="Availability">The hysteresis view that decides "accept only while the primary is down".</param>
/// <param name="AdvertisedSize">SIZE at the last successful probe.</param>
/// <param name="RequestProbe">Ask the tenant's loop to probe soon.</param>
public sealed record TenantView(PrimaryAvailability Availability, AdvertisedSize AdvertisedSize, Action RequestProbe);
