using System.Globalization;
using Respaldo.Configuration;

namespace Respaldo.Continuity;

/// <summary>
/// The tenant's own configuration against the machine (pure): <c>storage-allocation</c>
/// (the allocation fits in the disk's free space), <c>alert-addresses</c> (someone outside the
/// tenant's own domains is told), <c>recipients-known</c> (the backup knows whom to accept).
/// </summary>
public static class ConfigurationChecks
{
    public const string Storage = "storage-allocation";
    public const string Alerts = "alert-addresses";
    public const string Recipients = "recipients-known";

    public static IReadOnlyList<SetupCheck> Evaluate(Tenant tenant, ConfigurationFacts facts) =>
        [StorageCheck(facts), AlertCheck(tenant), RecipientCheck(tenant, facts.RecipientFile)];

    private static SetupCheck StorageCheck(ConfigurationFacts f)
    {
        const string Why = "while the primary is down the backup stores the tenant's mail; when the disk fills, senders are deferred";
        string allocation = Bytes(f.Allocation);
        if (f.DiskTotal <= 0)
        {
            return new SetupCheck(Storage, "stateDirectory", CheckStatus.CouldNotCheck, "the filesystem's size could not be read (statvfs)", Why, "check stateDirectory");
        }
        // Note: what the tenant's mail uses already is on the disk; the rest of its allocation must still fit, above minimumFree.
        long room = f.DiskFree - f.MinimumFree;
        long needed = Math.Max(0, f.Allocation - f.UsedBytes);
        string seen = $"allocation {allocation}, {Bytes(f.UsedBytes)} used; {Bytes(f.DiskFree)} free of {Bytes(f.DiskTotal)}, minimumFree {Bytes(f.MinimumFree)}";
        if (room <= 0)
        {
            return new SetupCheck(Storage, "stateDirectory", CheckStatus.Failing, seen, Why, "free space on the state directory's filesystem, or lower storage.minimumFree");
        }
        if (needed > room)
        {
            return new SetupCheck(Storage, "stateDirectory", CheckStatus.Warning, seen + ": the allocation does not fit", Why,
                $"free {Bytes(needed - room)} on the state directory's filesystem, or lower the allocation (storage.allocation or tenants[].storageShare) to {Bytes(room + f.UsedBytes)}");
        }
        return new SetupCheck(Storage, "stateDirectory", CheckStatus.Ok, seen, Why, "");
    }

    private static SetupCheck AlertCheck(Tenant tenant)
    {
        const string Why = "alerts to the tenant's own domains are stored at the backup during an outage, where nobody reads them";
        List<string> inside = tenant.AlertEmails.Where(a => tenant.ServesDomain(a[(a.LastIndexOf('@') + 1)..].ToLowerInvariant())).ToList();
        List<string> outside = tenant.AlertEmails.Except(inside, StringComparer.OrdinalIgnoreCase).ToList();
        string seen = tenant.AlertEmails.Count == 0 ? "no alert addresses" : string.Join(", ", tenant.AlertEmails);
        if (tenant.AlertWebhook is not null)
        {
            seen += "; a webhook";
        }
        if (outside.Count == 0 && tenant.AlertWebhook is null)
        {
            return new SetupCheck(Alerts, tenant.Id, CheckStatus.Failing, seen, Why,
                "add an address outside the tenant's domains to tenants[].alerts.emails (a personal or another company's mailbox), or a webhook");
        }
        if (inside.Count > 0)
        {
            return new SetupCheck(Alerts, tenant.Id, CheckStatus.Warning, $"{seen}: {string.Join(", ", inside)} is in the tenant's own domains", Why,
                $"replace {string.Join(", ", inside)} in tenants[].alerts.emails with an address outside the tenant's domains");
        }
        return new SetupCheck(Alerts, tenant.Id, CheckStatus.Ok, seen, Why, "");
    }

    private static SetupCheck RecipientCheck(Tenant tenant, RecipientFileFacts? file)
    {
        const string Why = "the backup accepts only addresses it knows: an unknown recipient is refused while the primary is down";
        if (file is not null && !file.Readable)
        {
            return new SetupCheck(Recipients, tenant.Id, CheckStatus.Failing, $"{file.Path} cannot be read: {file.Error}", Why,
                $"create {file.Path} (one address a line), readable by the daemon's user, or remove tenants[].recipients.file");
        }
        var ways = new List<string>();
        if (tenant.Mailboxes.Count > 0)
        {
            ways.Add($"{tenant.Mailboxes.Count.ToString(CultureInfo.InvariantCulture)} mailboxes listed");
        }
        if (file is not null)
        {
            ways.Add($"{file.Addresses.ToString(CultureInfo.InvariantCulture)} addresses in {file.Path}");
        }
        if (tenant.Recipients.Learn)
        {
            ways.Add("learned from the primary (callout)");
        }
        if (ways.Count == 0 || (!tenant.Recipients.Learn && tenant.Mailboxes.Count == 0 && file is { Addresses: 0 }))
        {
            return new SetupCheck(Recipients, tenant.Id, CheckStatus.Failing, ways.Count == 0 ? "no recipients known" : string.Join("; ", ways), Why,
                "list the tenant's addresses in tenants[].mailboxes or tenants[].recipients.file, or set tenants[].recipients.learn");
        }
        return new SetupCheck(Recipients, tenant.Id, CheckStatus.Ok, string.Join("; ", ways), Why, "");
    }

    private static string Bytes(long n) => ByteSize.Format(n);
}
