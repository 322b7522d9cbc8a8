namespace Respaldo.Continuity;

/// <summary>
/// What the configuration's own checks need from the machine: the tenant's storage allocation,
/// what its waiting mail uses now, the state directory's filesystem, and the admin's recipient
/// file (null when the tenant has none).
/// </summary>
public sealed record ConfigurationFacts(long Allocation, long MinimumFree, long UsedBytes, long DiskTotal, long DiskFree, RecipientFileFacts? RecipientFile);
