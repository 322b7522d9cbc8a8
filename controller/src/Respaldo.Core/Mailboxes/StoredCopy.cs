using System.Globalization;
using System.Text;
using Mono.Unix.Native;
using Respaldo.Storage;

namespace Respaldo.Mailboxes;

/// <summary>
/// The backup's stored copy of a waiting message, as a file: opened to hand it over, moved into
/// the hold area, deleted once the primary has it. Dovecot may rename it at any moment (new/X to
/// cur/X:2,FLAGS when a webmail user reads it), so each of these follows it by its base name
/// (<see cref="MaildirLayout.Relocate"/>): where it was seen, then where it went, three tries in
/// all, and "gone" only when it is nowhere.
/// </summary>
public static class StoredCopy
{
    /// <summary>How many places are tried: where the copy was seen, and twice where Dovecot moved it.</summary>
    public const int Tries = 3;

    /// <summary>
    /// Runs <paramref name="attempt"/> on the copy's path; while it says the file is not there
    /// (<c>Gone</c>), looks for it again by base name. <paramref name="whenGone"/> when it is nowhere.
    /// </summary>
    public static T Follow<T>(WaitingMessage message, Func<string, (bool Gone, T Value)> attempt, T whenGone)
    {
        string? path = message.Path;
        for (int i = 0; i < Tries && path is not null; i++)
        {
            (bool gone, T value) = attempt(path);
            if (!gone)
            {
                return value;
            }
            path = MaildirLayout.Relocate(message.MaildirPath, message.BaseName);
        }
        return whenGone;
    }

    /// <summary>Opens the copy to read it (<see cref="MessageFile.Open"/>: no FIFO, no symlink); Gone when it is nowhere.</summary>
    public static MessageFileOpening Open(WaitingMessage message, MessageFile.OpenFunction? open = null) =>
        Follow(message, path =>
        {
            MessageFileOpening opening = MessageFile.Open(path, open);
            return (opening.State == MessageFileState.Gone, opening);
        }, new MessageFileOpening(MessageFileState.Gone, null, "the file is gone"));

    /// <summary>
    /// Moves the copy into <paramref name="directory"/> under its base name (another name if one
    /// is there already: a held message is never overwritten); its new path, or null when it had vanished.
    /// </summary>
    public static string? MoveInto(WaitingMessage message, string directory) =>
        Follow(message, path => MoveOnce(path, directory, message.BaseName), (string?)null);

    /// <summary>
    /// Deletes the copy (its 250 already durable in the journal) and keeps Dovecot's Maildir++
    /// quota file honest by appending the removal, as the convention asks of any process that
    /// deletes messages. False when it was already gone.
    /// </summary>
    public static bool Delete(WaitingMessage message) => Follow(message, path =>
    {
        // Note: unlink(2) directly: one system call that says whether the file was there
        // (File.Delete is silent about a missing file and would need a stat to tell).
        if (Syscall.unlink(path) == 0)
        {
            NoteQuota(message.MaildirPath, message.Size);
            return (false, true);
        }
        if (Stdlib.GetLastError() != Errno.ENOENT)
        {
            throw new IOException($"cannot delete {path}: {Stdlib.strerror(Stdlib.GetLastError())}");
        }
        return (true, false);
    }, false);

    private static (bool Gone, string? Path) MoveOnce(string source, string directory, string baseName)
    {
        string destination = Path.Combine(directory, baseName);
        for (int i = 0; i < Tries; i++)
        {
            try
            {
                File.Move(source, destination, overwrite: false);
                AtomicFile.SyncDirectory(directory);
                AtomicFile.SyncDirectory(Path.GetDirectoryName(source)!);
                return (false, destination);
            }
            catch (FileNotFoundException)
            {
                return (true, null);
            }
            catch (IOException) when (File.Exists(destination))
            {
                // Note: the same base name is already there (a crash between move and record):
                // keep both, never overwrite a held message.
                destination = Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"{baseName}.{DateTime.UtcNow.Ticks}"));
            }
        }
        return (false, null);
    }

    private static void NoteQuota(string maildir, long size)
    {
        // Note: O_APPEND writes of one short line are atomic with Dovecot's own appends; a
        // mailbox without quota has no maildirsize, and none is created here.
        int fd = Syscall.open(Path.Combine(maildir, "maildirsize"), OpenFlags.O_WRONLY | OpenFlags.O_APPEND | OpenFlags.O_CLOEXEC);
        if (fd < 0)
        {
            return;
        }
        using var stream = new Mono.Unix.UnixStream(fd, ownsHandle: true);
        byte[] line = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"-{size} -1\n"));
        try
        {
            stream.Write(line, 0, line.Length);
        }
        catch (Mono.Unix.UnixIOException)
        {
            // A failed write leaves the quota stale; Dovecot recalculates a stale maildirsize itself.
        }
    }
}
