using System.Collections.Concurrent;
using Respaldo.Configuration;
using Respaldo.Journaling;

namespace Respaldo.Policy;

/// <summary>
/// What callouts to the primary said about recipients, per tenant: in memory for the RCPT path,
/// and in the journal (table <c>recipients</c>) so that a restart during an outage still knows
/// every address learned while the primary was up. Entries are fresh for
/// <c>recipients.positiveCacheDays</c> (valid) or <c>recipients.negativeCacheHours</c> (refused);
/// expired ones are forgotten, in memory and in the journal, at most every
/// <see cref="SweepEvery"/> (a dictionary attack's refused guesses do not pile up for ever).
/// </summary>
public sealed class RecipientCache(Journal journal)
{
    /// <summary>How often a tenant's expired verdicts are swept (on the next lookup after this long).</summary>
    public static readonly TimeSpan SweepEvery = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<string, TenantEntries> _tenants = new(StringComparer.Ordinal);

    private sealed class TenantEntries(IEnumerable<RecipientRecord> loaded)
    {
        public ConcurrentDictionary<string, RecipientRecord> Records { get; } =
            new(loaded.Select(r => KeyValuePair.Create(r.Address, r)), StringComparer.Ordinal);

        public DateTimeOffset SweptAt { get; set; } = DateTimeOffset.MinValue;
    }

    /// <summary>The tenant's fresh verdict on <paramref name="address"/>, or null (never asked, or expired).</summary>
    public RecipientRecord? Lookup(Tenant tenant, string address, DateTimeOffset now)
    {
        TenantEntries entries = Entries(tenant.Id);
        Sweep(tenant, entries, now);
        if (!entries.Records.TryGetValue(address, out RecipientRecord? r))
        {
            return null;
        }
        return Fresh(tenant, r, now) ? r : null;
    }

    /// <summary>Remembers a verdict; completes when it is durable in the journal.</summary>
    public Task RecordAsync(RecipientRecord record)
    {
        Entries(record.TenantId).Records[record.Address] = record;
        return journal.RecordRecipientAsync(record);
    }

    /// <summary>Verdicts held in memory for the tenant, expired or not (for tests).</summary>
    internal int Count(string tenantId) => Entries(tenantId).Records.Count;

    private static bool Fresh(Tenant tenant, RecipientRecord r, DateTimeOffset now) =>
        now - r.CheckedAt < (r.Valid ? tenant.Recipients.PositiveTtl : tenant.Recipients.NegativeTtl);

    private void Sweep(Tenant tenant, TenantEntries entries, DateTimeOffset now)
    {
        lock (entries)
        {
            if (now - entries.SweptAt < SweepEvery)
            {
                return;
            }
            entries.SweptAt = now;
        }
        foreach (RecipientRecord stale in entries.Records.Values.Where(r => !Fresh(tenant, r, now)).ToList())
        {
            entries.Records.TryRemove(KeyValuePair.Create(stale.Address, stale));
        }
        // Note: not awaited; the journal's writer runs it in order with the inserts, and a row
        // it misses is ignored as expired at the next load and swept then.
        _ = journal.ExpireRecipientsAsync(tenant.Id, now - tenant.Recipients.PositiveTtl, now - tenant.Recipients.NegativeTtl);
    }

    private TenantEntries Entries(string tenantId) =>
        _tenants.GetOrAdd(tenantId, id => new TenantEntries(journal.LoadRecipients(id)));
}
