using System.Globalization;
using System.Text;
using Mono.Unix.Native;
using Respaldo.Mailboxes;

namespace Respaldo.HandOver;

/// <summary>
/// Deletes the backup's copy of a message the primary has taken (its 250 already durable in
/// the journal). Follows the file if Dovecot renamed it, and keeps Dovecot's Maildir++ quota
/// file honest by appending the removal, as the Maildir++ convention asks of any process that
/// deletes messages.
/// </summary>
public static class DeliveredCopy
{
    /// <summary>Deletes the copy; returns false when it was already gone.</summary>
    public static bool Delete(WaitingMessage message)
    {
        string? path = message.Path;
        for (int attempt = 0; attempt < 3 && path is not null; attempt++)
        {
            // Note: unlink(2) directly: one system call that says whether the file was there
            // (File.Delete is silent about a missing file and would need a stat to tell).
            if (Syscall.unlink(path) == 0)
            {
                NoteQuota(message.MaildirPath, message.Size);
                return true;
            }
            if (Stdlib.GetLastError() != Errno.ENOENT)
            {
                throw new IOException($"cannot delete {path}: {Stdlib.strerror(Stdlib.GetLastError())}");
            }
            path = MaildirLayout.Relocate(message.MaildirPath, message.BaseName);
        }
        return false;
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
