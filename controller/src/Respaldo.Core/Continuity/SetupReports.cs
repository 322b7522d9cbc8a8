using System.Collections.Concurrent;

namespace Respaldo.Continuity;

/// <summary>
/// The last set-up report of each tenant, as the daemon's periodic and on-demand checks left it;
/// read by the control bus, the dashboard and /metrics. Thread-safe.
/// </summary>
public sealed class SetupReports
{
    private readonly ConcurrentDictionary<string, SetupReport> _last = new(StringComparer.Ordinal);

    public void Keep(SetupReport report) => _last[report.TenantId] = report;

    public SetupReport? Last(string tenantId) => _last.TryGetValue(tenantId, out SetupReport? r) ? r : null;

    /// <summary>Forgets tenants no longer configured (after a reload).</summary>
    public void KeepOnly(IEnumerable<string> tenantIds)
    {
        var keep = tenantIds.ToHashSet(StringComparer.Ordinal);
        foreach (string id in _last.Keys.Where(k => !keep.Contains(k)))
        {
            _last.TryRemove(id, out _);
        }
    }
}
