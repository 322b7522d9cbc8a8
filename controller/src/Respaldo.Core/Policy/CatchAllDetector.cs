using System.Collections.Concurrent;
using System.Security.Cryptography;
using Respaldo.Configuration;
using Respaldo.Journaling;

namespace Respaldo.Policy;

/// <summary>
/// Finds out whether a tenant's primary accepts every address of a domain (a catch-all): before
/// learning from a callout it asks the primary about a random local part nobody can have, such
/// as <c>respaldo-probe-3f9c…@domain</c>. If the primary accepts that, its 250 says nothing about
/// any recipient, and learning from it would make every guess of a dictionary attack a Dovecot
/// user; the front door then learns nothing from it and only the listed mailboxes and the
/// admin's file count. The verdict is kept in the journal (table <c>catch_all</c>), shown on the
/// dashboard, and probed again after <see cref="RecheckAfter"/> (a probe without a verdict,
/// 4xx or no answer, is not kept: the next callout probes again).
/// </summary>
public sealed class CatchAllDetector(Journal journal, RecipientCallout callout)
{
    /// <summary>How long a probe's verdict stands (an admin who turns the catch-all off is believed within this time).</summary>
    public static readonly TimeSpan RecheckAfter = TimeSpan.FromHours(6);

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, CatchAllRecord>> _tenants = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<CatchAllRecord?>>> _probing = new(StringComparer.Ordinal);

    /// <summary>The last verdict on the domain (fresh or not), or null if never probed: for the "while the primary is down" path, which cannot probe.</summary>
    public CatchAllRecord? Known(Tenant tenant, string domain) =>
        Entries(tenant.Id).TryGetValue(domain, out CatchAllRecord? r) ? r : null;

    /// <summary>True when the primary accepts every address of <paramref name="domain"/>; null when it gave no verdict. Probes when the last verdict is stale.</summary>
    public async Task<bool?> IsCatchAllAsync(string heloName, Tenant tenant, string domain, TimeSpan timeout, DateTimeOffset now)
    {
        if (Known(tenant, domain) is { } known && now - known.CheckedAt < RecheckAfter)
        {
            return known.CatchAll;
        }
        string key = tenant.Id + "\n" + domain;
        Lazy<Task<CatchAllRecord?>> run = _probing.GetOrAdd(key, _ => new Lazy<Task<CatchAllRecord?>>(async () =>
        {
            try
            {
                return await ProbeAsync(heloName, tenant, domain, timeout, now);
            }
            finally
            {
                _probing.TryRemove(key, out Lazy<Task<CatchAllRecord?>>? _);
            }
        }));
        CatchAllRecord? result = await run.Value;
        return result?.CatchAll;
    }

    private async Task<CatchAllRecord?> ProbeAsync(string heloName, Tenant tenant, string domain, TimeSpan timeout, DateTimeOffset now)
    {
        string probe = $"respaldo-probe-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))}@{domain}";
        CalloutResult result = await callout.VerifyAsync(heloName, tenant, probe, timeout);
        if (result.Outcome == CalloutOutcome.Unverified)
        {
            return null;
        }
        var record = new CatchAllRecord(tenant.Id, domain, result.Outcome == CalloutOutcome.Valid, now, probe, result.Reason);
        Entries(tenant.Id)[domain] = record;
        await journal.RecordCatchAllAsync(record);
        return record;
    }

    private ConcurrentDictionary<string, CatchAllRecord> Entries(string tenantId) =>
        _tenants.GetOrAdd(tenantId, id => new ConcurrentDictionary<string, CatchAllRecord>(
            journal.LoadCatchAll(id).Select(r => KeyValuePair.Create(r.Domain, r)), StringComparer.Ordinal));
}
