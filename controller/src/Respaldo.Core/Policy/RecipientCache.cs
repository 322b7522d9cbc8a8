using System.Collections.Concurrent;
using Respaldo.Configuration;
using Respaldo.Journal;

namespace Respaldo.Policy;

/// <summary>
/// What callouts to the primary said about recipients, per tenant: in memory for the RCPT path,
/// and in the journal (table <c>recipients</c>) so that a restart during an outage still knows
/// every address learned while the primary was up. Entries are fresh for
/// <c>recipients.positiveCacheDays</c> (valid) or <c>recipients.negativeCacheHours</c> (refused).
/// </summary>
public sealed class RecipientCache(Journal.Journal journal)
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, RecipientRecord>> _tenants = new(StringComparer.Ordinal);

    /// <summary>The tenant's fresh verdict on <paramref name="address"/>, or null (never asked, or expired).</summary>
    public RecipientRecord? Lookup(Tenant tenant, string address, DateTimeOffset now)
    {
        if (!Entries(tenant.Id).TryGetValue(address, out RecipientRecord? r))
        {
            return null;
        }
        TimeSpan ttl = r.Valid ? tenant.Recipients.PositiveTtl : tenant.Recipients.NegativeTtl;
        return now - r.CheckedAt < ttl ? r : null;
    }

    /// <summary>Remembers a verdict; completes when it is durable in the journal.</summary>
    public Task RecordAsync(RecipientRecord record)
    {
        Entries(record.TenantId)[record.Address] = record;
        return journal.RecordRecipientAsync(record);
    }

    private ConcurrentDictionary<string, RecipientRecord> Entries(string tenantId) =>
        _tenants.GetOrAdd(tenantId, id => new ConcurrentDictionary<string, RecipientRecord>(
            journal.LoadRecipients(id).Select(r => KeyValuePair.Create(r.Address, r)), StringComparer.Ordinal));
}
