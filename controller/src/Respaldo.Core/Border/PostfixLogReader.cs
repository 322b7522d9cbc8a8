using System.Globalization;
using System.Text;
using Respaldo.Storage;

namespace Respaldo.Border;

/// <summary>
/// Reads the lines Postfix appended to its log file since the last call, from a position
/// kept in a small state file, so a restart neither counts a line twice nor skips one that
/// was written while the daemon was away. A file that was rotated (another inode) or
/// truncated is read from its start.
/// </summary>
/// <remarks>
/// Note: the position is saved after the verdicts of a batch were queued for the journal: a
/// crash in between counts those lines again at the next start (a count too high, never mail
/// lost). A line still being written (no newline yet) is left for the next call.
/// </remarks>
public sealed class PostfixLogReader(string logFile, string positionFile)
{
    private const int MaxBatch = 1 << 20;

    private (ulong Inode, long Offset)? _position;

    public string LogFile => logFile;

    /// <summary>The complete lines appended since the last call (at most about 1 MiB at a time); empty when none or no file yet.</summary>
    public IReadOnlyList<string> ReadNew()
    {
        _position ??= LoadPosition() ?? StartAtEnd();
        if (Stat(logFile) is not { } stat)
        {
            return [];
        }
        (ulong inode, long offset) = _position.Value;
        if (stat.Inode != inode || stat.Size < offset)
        {
            (inode, offset) = (stat.Inode, 0);
        }
        if (stat.Size == offset)
        {
            _position = (inode, offset);
            return [];
        }
        using var stream = new FileStream(logFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        stream.Seek(offset, SeekOrigin.Begin);
        byte[] buffer = new byte[(int)Math.Min(MaxBatch, stat.Size - offset)];
        int read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        int end = Array.LastIndexOf(buffer, (byte)'\n', read - 1 < 0 ? 0 : read - 1);
        if (end < 0)
        {
            return [];
        }
        string text = Encoding.UTF8.GetString(buffer, 0, end);
        _position = (inode, offset + end + 1);
        return text.Split('\n');
    }

    /// <summary>Saves the position reached (tmp → fsync → rename).</summary>
    public void SavePosition()
    {
        if (_position is { } p)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(positionFile)!);
            AtomicFile.WriteIfChanged(positionFile, Encoding.ASCII.GetBytes(
                string.Create(CultureInfo.InvariantCulture, $"{p.Inode} {p.Offset}\n")),
                UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    private (ulong, long)? LoadPosition()
    {
        try
        {
            string[] parts = File.ReadAllText(positionFile).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return parts.Length == 2
                && ulong.TryParse(parts[0], CultureInfo.InvariantCulture, out ulong inode)
                && long.TryParse(parts[1], CultureInfo.InvariantCulture, out long offset)
                ? (inode, offset) : null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The first start counts from now: what Postfix logged before Respaldo counted is history.</summary>
    private (ulong, long) StartAtEnd() => Stat(logFile) is { } s ? (s.Inode, s.Size) : (0, 0);

    private static (ulong Inode, long Size)? Stat(string path)
    {
        if (Mono.Unix.Native.Syscall.stat(path, out Mono.Unix.Native.Stat st) != 0)
        {
            return null;
        }
        return (st.st_ino, st.st_size);
    }
}
