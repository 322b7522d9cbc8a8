using Mono.Unix.Native;

namespace Respaldo.Storage;

/// <summary>
/// An open directory (O_DIRECTORY), so that files in it are created, compared and renamed with
/// openat/renameat relative to the directory itself: once it is open, nobody can swap a path
/// component under us (a symlink planted at a directory name) between two system calls.
/// </summary>
public sealed class DirectoryHandle : IDisposable
{
    private DirectoryHandle(int fd, string path)
    {
        Fd = fd;
        Path = path;
    }

    public int Fd { get; private set; }

    /// <summary>Where it was opened, for messages only.</summary>
    public string Path { get; }

    /// <summary>Opens <paramref name="path"/> as a directory; with <paramref name="noFollow"/> a symlink at its last component is refused (ELOOP).</summary>
    public static DirectoryHandle Open(string path, bool noFollow = false)
    {
        OpenFlags flags = OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC | (noFollow ? OpenFlags.O_NOFOLLOW : 0);
        int fd = Syscall.open(path, flags);
        if (fd < 0)
        {
            throw Error($"cannot open directory {path}");
        }
        return new DirectoryHandle(fd, path);
    }

    /// <summary>Opens the directory <paramref name="name"/> inside this one; -1 and the errno when it cannot.</summary>
    public (DirectoryHandle? Handle, Errno Error) TryOpenChild(string name)
    {
        int fd = Syscall.openat(Fd, name, OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC);
        return fd < 0 ? (null, Stdlib.GetLastError()) : (new DirectoryHandle(fd, System.IO.Path.Combine(Path, name)), 0);
    }

    /// <summary>fstat(2) of the directory itself.</summary>
    public Stat Status()
    {
        if (Syscall.fstat(Fd, out Stat st) != 0)
        {
            throw Error($"cannot stat directory {Path}");
        }
        return st;
    }

    /// <summary>fsync(2): a rename or unlink in the directory is on disk when this returns.</summary>
    public void Sync()
    {
        if (Syscall.fsync(Fd) < 0)
        {
            throw Error($"fsync of directory {Path} failed");
        }
    }

    internal static IOException Error(string what)
    {
        Errno errno = Stdlib.GetLastError();
        return new IOException($"{what}: {Stdlib.strerror(errno)}");
    }

    public void Dispose()
    {
        if (Fd >= 0)
        {
            _ = Syscall.close(Fd);
            Fd = -1;
        }
    }
}
