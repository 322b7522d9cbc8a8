using Respaldo.Configuration;
using Respaldo.Mailboxes;
using Respaldo.Supervision;

namespace Respaldo.Policy;

/// <summary>The front door's context in the daemon: whatever <see cref="RespaldoRuntime"/> runs right now.</summary>
public sealed class RuntimeFrontDoorContext(RespaldoRuntime runtime, TimeProvider time) : IFrontDoorContext
{
    private static readonly TimeSpan FirstScanWait = TimeSpan.FromSeconds(5);

    private readonly StorageGauge _gauge = new();

    public RespaldoSettings Settings => runtime.Settings;

    public TenantView? Tenant(string tenantId) =>
        runtime.Supervisor.Find(tenantId) is { } t ? new TenantView(t.Availability, t.AdvertisedSize, t.RequestProbe) : null;

    public async Task<StorageUse?> MeasureAsync(string tenantId, string? mailbox, CancellationToken cancellationToken)
    {
        Supervisor supervisor = runtime.Supervisor;
        try
        {
            // Note: before the first full scan the index undercounts; answering from it could
            // accept mail over the allocation.
            await supervisor.Watcher.Ready.WaitAsync(FirstScanWait, time, cancellationToken);
        }
        catch (TimeoutException)
        {
            return null;
        }
        IReadOnlyDictionary<string, long> held = _gauge.HeldBytes(supervisor.Settings.HoldRoot, time.GetUtcNow());
        return Measure(supervisor.Index, tenantId, mailbox, held, StorageGauge.FreeBytes(supervisor.Settings.MaildirRoot));
    }

    /// <summary>
    /// The use as the index counts it: lookups of totals the index keeps as messages come and
    /// go (all tenants together, the tenant, the mailbox), never a walk over the waiting messages
    /// nor over the tenants.
    /// </summary>
    internal static StorageUse Measure(
        MailboxIndex index, string tenantId, string? mailbox, IReadOnlyDictionary<string, long> held, long? free)
    {
        long total = held.Values.Sum() + index.AllBytes;
        long tenantBytes = index.Totals(tenantId).Bytes + held.GetValueOrDefault(tenantId);
        long mailboxBytes = mailbox is null ? 0 : index.MailboxTotal(tenantId, mailbox).Bytes;
        return new StorageUse(total, tenantBytes, free, mailboxBytes);
    }
}
