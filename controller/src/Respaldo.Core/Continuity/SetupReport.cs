namespace Respaldo.Continuity;

/// <summary>Every check of one tenant's set-up, as of <see cref="CheckedAt"/>.</summary>
public sealed record SetupReport(string TenantId, DateTimeOffset CheckedAt, IReadOnlyList<SetupCheck> Checks)
{
    /// <summary>True when at least one check is failing.</summary>
    public bool HasFailing => Checks.Any(c => c.Status == CheckStatus.Failing);

    /// <summary>
    /// Per check id, whether every subject of it is ok (what <c>respaldo_setup_check</c> exports: one
    /// series per check, not per domain, so a tenant's series do not change with its domains).
    /// </summary>
    public IReadOnlyDictionary<string, bool> OkById() =>
        Checks.GroupBy(c => c.Id, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.All(c => c.Status == CheckStatus.Ok), StringComparer.Ordinal);
}
