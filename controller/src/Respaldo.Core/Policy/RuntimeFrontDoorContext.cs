using Respaldo.Configuration;
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

    public async Task<StorageUse?> MeasureAsync(string tenantId, CancellationToken cancellationToken)
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
        long total = held.Values.Sum();
        foreach (Tenant t in supervisor.Settings.Tenants)
        {
            total += supervisor.Index.Totals(t.Id).Bytes;
        }
        long tenantBytes = supervisor.Index.Totals(tenantId).Bytes + held.GetValueOrDefault(tenantId);
        Dictionary<string, long> mailboxes = supervisor.Index.MailboxTotals(tenantId)
            .ToDictionary(m => m.Key, m => m.Value.Bytes, StringComparer.Ordinal);
        return new StorageUse(total, tenantBytes, StorageGauge.FreeBytes(supervisor.Settings.MaildirRoot), mailboxes);
    }
}
