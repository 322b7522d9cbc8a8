using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using Mono.Unix.Native;

namespace Respaldo.Storage;

/// <summary>
/// Writes files we own the way Postfix writes its queue files: to a temporary name in the
/// same directory, fsync, rename over the target, fsync the directory. A crash at any point
/// leaves either the old file or the new one, never a torn one.
/// </summary>
/// <remarks>
/// SECURITY: render runs as root and writes into directories another user may be able to
/// write (STATE/ belongs to the mail user). So nothing here follows a symlink or trusts a
/// name: every file is opened relative to an open directory descriptor; the temporary name
/// is random and created with O_CREAT|O_EXCL|O_NOFOLLOW (a symlink or file planted there
/// makes the write fail, never redirects it); mode and owner are set with fchmod/fchown on
/// the descriptor of the file just created; rename(2) replaces a symlink at the target
/// itself, never what it points to; and the comparison of WriteIfChanged reads the target
/// with O_NOFOLLOW|O_NONBLOCK and only when fstat says it is a regular file.
/// </remarks>
public static class AtomicFile
{
    private const UnixFileMode PermissionBits = (UnixFileMode)0x1FF | UnixFileMode.SetUser | UnixFileMode.SetGroup | UnixFileMode.StickyBit;

    /// <summary>
    /// Replaces <paramref name="path"/> with <paramref name="content"/> unless it already holds
    /// exactly that content with that mode. Returns true when the file was (re)written.
    /// </summary>
    public static bool WriteIfChanged(string path, ReadOnlySpan<byte> content, UnixFileMode mode)
    {
        using DirectoryHandle directory = DirectoryHandle.Open(DirectoryOf(path));
        return WriteIfChanged(directory, Path.GetFileName(path), content, mode, owner: null);
    }

    /// <summary>
    /// <see cref="WriteIfChanged(string, ReadOnlySpan{byte}, UnixFileMode)"/> for <paramref name="name"/>
    /// in an open directory; with <paramref name="owner"/>, a file owned by anyone else counts as changed.
    /// </summary>
    public static bool WriteIfChanged(DirectoryHandle directory, string name, ReadOnlySpan<byte> content, UnixFileMode mode, FileOwner? owner)
    {
        if (HoldsAlready(directory, name, content, mode, owner))
        {
            return false;
        }
        Write(directory, name, content, mode, owner);
        return true;
    }

    /// <summary>Unconditionally replaces <paramref name="path"/>, durably.</summary>
    public static void Write(string path, ReadOnlySpan<byte> content, UnixFileMode mode)
    {
        using DirectoryHandle directory = DirectoryHandle.Open(DirectoryOf(path));
        Write(directory, Path.GetFileName(path), content, mode, owner: null);
    }

    /// <summary>Unconditionally replaces <paramref name="name"/> in an open directory, durably, with that mode and owner.</summary>
    public static void Write(DirectoryHandle directory, string name, ReadOnlySpan<byte> content, UnixFileMode mode, FileOwner? owner)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"{name} is not a plain file name", nameof(name));
        }
        // Note: a random name, not ".NAME.tmpPID": a fixed or guessable name lets whoever can
        // write the directory plant a symlink there before we open it.
        string temporary = $".{name}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}.tmp";
        int fd = Syscall.openat(directory.Fd, temporary,
            OpenFlags.O_WRONLY | OpenFlags.O_CREAT | OpenFlags.O_EXCL | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC,
            FilePermissions.S_IRUSR | FilePermissions.S_IWUSR);
        if (fd < 0)
        {
            throw DirectoryHandle.Error($"cannot create {Path.Combine(directory.Path, temporary)}");
        }
        try
        {
            using (var file = new SafeFileHandle((IntPtr)fd, ownsHandle: true))
            {
                // Note: owner first: chown(2) clears set-id bits, the mode must come after it.
                // Both on the descriptor: the name could be replaced between two path calls.
                if (owner is { } o && Syscall.fchown(fd, o.Uid, o.Gid) != 0)
                {
                    throw DirectoryHandle.Error($"cannot give {Path.Combine(directory.Path, name)} to uid {o.Uid} gid {o.Gid}");
                }
                // Note: O_CREAT's mode is filtered by the umask; fchmod sets the mode we mean.
                if (Syscall.fchmod(fd, (FilePermissions)(uint)mode) != 0)
                {
                    throw DirectoryHandle.Error($"cannot set the mode of {Path.Combine(directory.Path, name)}");
                }
                RandomAccess.Write(file, content, 0);
                if (Syscall.fsync(fd) != 0)
                {
                    throw DirectoryHandle.Error($"fsync of {Path.Combine(directory.Path, name)} failed");
                }
            }
            if (Syscall.renameat(directory.Fd, temporary, directory.Fd, name) != 0)
            {
                throw DirectoryHandle.Error($"cannot rename {temporary} to {Path.Combine(directory.Path, name)}");
            }
        }
        catch
        {
            _ = Syscall.unlinkat(directory.Fd, temporary, 0);
            throw;
        }
        directory.Sync();
    }

    /// <summary>True when <paramref name="name"/> is a regular file (not a symlink) with exactly that content, mode and owner.</summary>
    private static bool HoldsAlready(DirectoryHandle directory, string name, ReadOnlySpan<byte> content, UnixFileMode mode, FileOwner? owner)
    {
        int fd = Syscall.openat(directory.Fd, name, OpenFlags.O_RDONLY | OpenFlags.O_NOFOLLOW | OpenFlags.O_NONBLOCK | OpenFlags.O_CLOEXEC);
        if (fd < 0)
        {
            // Note: missing, a symlink (ELOOP) or unreadable: in every case the file is (re)made.
            return false;
        }
        using var file = new SafeFileHandle((IntPtr)fd, ownsHandle: true);
        if (Syscall.fstat(fd, out Stat st) != 0
            || (st.st_mode & FilePermissions.S_IFMT) != FilePermissions.S_IFREG
            || ((UnixFileMode)(uint)st.st_mode & PermissionBits) != mode
            || (owner is { } o && (st.st_uid != o.Uid || st.st_gid != o.Gid))
            || st.st_size != content.Length)
        {
            return false;
        }
        byte[] existing = new byte[content.Length];
        int total = 0;
        int n;
        while (total < existing.Length && (n = RandomAccess.Read(file, existing.AsSpan(total), total)) > 0)
        {
            total += n;
        }
        return total == content.Length && content.SequenceEqual(existing);
    }

    private static string DirectoryOf(string path) =>
        Path.GetDirectoryName(Path.GetFullPath(path)) ?? throw new ArgumentException($"{path} has no directory", nameof(path));

    /// <summary>
    /// fsync(2) on a directory, so that a rename or unlink in it is on disk. .NET cannot open
    /// a directory as a file handle, hence Mono.Posix.
    /// </summary>
    public static void SyncDirectory(string directory)
    {
        using DirectoryHandle handle = DirectoryHandle.Open(directory);
        handle.Sync();
    }
}
