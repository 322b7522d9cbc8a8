using Mono.Unix.Native;

namespace Respaldo.Status;

/// <summary>Size and free space of the filesystem holding a directory (statvfs(3)).</summary>
public sealed record DiskSpace(long Total, long Free)
{
    public static DiskSpace Of(string directory)
    {
        string path = directory;
        while (!Directory.Exists(path) && Path.GetDirectoryName(path) is { } parent)
        {
            path = parent;
        }
        if (Syscall.statvfs(path, out Statvfs s) != 0)
        {
            return new DiskSpace(0, 0);
        }
        // Note: f_bavail, not f_bfree: what an unprivileged writer (Dovecot as the mail user) may use.
        return new DiskSpace((long)(s.f_blocks * s.f_frsize), (long)(s.f_bavail * s.f_frsize));
    }
}
