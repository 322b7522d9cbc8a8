using Mono.Unix.Native;

namespace Respaldo.Storage;

/// <summary>
/// Writes files we own the way Postfix writes its queue files: to a temporary name in the
/// same directory, fsync, rename over the target, fsync the directory. A crash at any point
/// leaves either the old file or the new one, never a torn one.
/// </summary>
public static class AtomicFile
{
    /// <summary>
    /// Replaces <paramref name="path"/> with <paramref name="content"/> unless it already holds
    /// exactly that content with that mode. Returns true when the file was (re)written.
    /// </summary>
    public static bool WriteIfChanged(string path, ReadOnlySpan<byte> content, UnixFileMode mode)
    {
        if (File.Exists(path)
            && File.GetUnixFileMode(path) == mode
            && new FileInfo(path).Length == content.Length
            && content.SequenceEqual(File.ReadAllBytes(path)))
        {
            return false;
        }
        Write(path, content, mode);
        return true;
    }

    /// <summary>Unconditionally replaces <paramref name="path"/>, durably.</summary>
    public static void Write(string path, ReadOnlySpan<byte> content, UnixFileMode mode)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))
            ?? throw new ArgumentException($"{path} has no directory", nameof(path));
        string temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.tmp{Environment.ProcessId}");
        try
        {
            using (var stream = new FileStream(temporary, new FileStreamOptions
            {
                Mode = FileMode.Create,
                Access = FileAccess.Write,
                Share = FileShare.None,
                UnixCreateMode = mode,
            }))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }
            // Note: UnixCreateMode is filtered by the umask; set the mode we mean explicitly.
            File.SetUnixFileMode(temporary, mode);
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
        SyncDirectory(directory);
    }

    /// <summary>
    /// fsync(2) on a directory, so that a rename or unlink in it is on disk. .NET cannot open
    /// a directory as a file handle, hence Mono.Posix.
    /// </summary>
    public static void SyncDirectory(string directory)
    {
        int fd = Syscall.open(directory, OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory {directory}: {Stdlib.strerror(Stdlib.GetLastError())}");
        }
        try
        {
            if (Syscall.fsync(fd) < 0)
            {
                throw new IOException($"fsync of directory {directory} failed: {Stdlib.strerror(Stdlib.GetLastError())}");
            }
        }
        finally
        {
            _ = Syscall.close(fd);
        }
    }
}
