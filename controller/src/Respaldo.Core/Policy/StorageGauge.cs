using Mono.Unix.Native;

namespace Respaldo.Policy;

/// <summary>How much the backups use, as the front door counts it at RCPT time.</summary>
/// <param name="TotalBytes">Messages waiting in every tenant's maildirs plus the hold area.</param>
/// <param name="TenantBytes">The same for one tenant.</param>
/// <param name="FreeBytes">Free space for unprivileged users on the maildirs' file system; null when unknown.</param>
/// <param name="MailboxBytes">Waiting bytes in the mailbox asked about (0 when none was).</param>
public sealed record StorageUse(long TotalBytes, long TenantBytes, long? FreeBytes, long MailboxBytes);

/// <summary>
/// Disk facts the index does not know: free space (statvfs(3) on the maildir root, f_bavail:
/// what a non-root writer such as Dovecot may still use) and the size of the hold area, which a
/// directory walk measures at most every half minute.
/// </summary>
public sealed class StorageGauge
{
    private static readonly TimeSpan HeldRefresh = TimeSpan.FromSeconds(30);

    private readonly object _lock = new();
    private Dictionary<string, long> _held = new(StringComparer.Ordinal);
    private DateTimeOffset _heldAt = DateTimeOffset.MinValue;
    private string? _heldRoot;

    public static long? FreeBytes(string path)
    {
        if (Syscall.statvfs(path, out Statvfs buffer) != 0)
        {
            return null;
        }
        return (long)Math.Min(buffer.f_bavail * buffer.f_frsize, long.MaxValue);
    }

    /// <summary>Bytes in the hold area per tenant (hold root/TENANT/...).</summary>
    public IReadOnlyDictionary<string, long> HeldBytes(string holdRoot, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (_heldRoot == holdRoot && now - _heldAt < HeldRefresh)
            {
                return _held;
            }
            var held = new Dictionary<string, long>(StringComparer.Ordinal);
            if (Directory.Exists(holdRoot))
            {
                foreach (string tenantDir in Directory.EnumerateDirectories(holdRoot))
                {
                    long bytes = 0;
                    try
                    {
                        bytes = new DirectoryInfo(tenantDir).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
                    }
                    catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException or UnauthorizedAccessException)
                    {
                        // Note: a message released while we walk is simply not counted this time.
                    }
                    held[Path.GetFileName(tenantDir)] = bytes;
                }
            }
            _held = held;
            _heldAt = now;
            _heldRoot = holdRoot;
            return held;
        }
    }
}
