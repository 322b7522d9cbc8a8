using Microsoft.Win32.SafeHandles;
using Mono.Unix.Native;

namespace Respaldo.Mailboxes;

/// <summary>What opening a stored message found.</summary>
public enum MessageFileState
{
    /// <summary>A regular file, open for reading.</summary>
    Open,
    /// <summary>Nothing at that name (handed over, released, or renamed by Dovecot: look again).</summary>
    Gone,
    /// <summary>A FIFO, directory, socket, device or symlink: never read, never handed over.</summary>
    NotAMessage,
    /// <summary>The daemon may not read it (EACCES, EPERM): waiting will not change that.</summary>
    Unreadable,
    /// <summary>Any other error (EIO, EMFILE, ENOMEM, ...): may pass; try again later.</summary>
    Failing,
}

/// <summary>The outcome of <see cref="MessageFile.Open"/>: the open file, or why there is none.</summary>
public sealed record MessageFileOpening(MessageFileState State, SafeFileHandle? File, string Reason);

/// <summary>
/// Opens a stored message for the hand-over without trusting what is at its name: anyone who
/// runs as the mail user (every Dovecot mail process does, mail_uid) can put a FIFO, a
/// directory or a symlink in new/ or cur/.
/// </summary>
public static class MessageFile
{
    /// <summary>The open(2) the hand-over uses; a seam for tests (fd, or -1 and the errno).</summary>
    public delegate (int Fd, Errno Error) OpenFunction(string path, OpenFlags flags);

    private static readonly OpenFunction SystemOpen = (path, flags) =>
    {
        int fd = Syscall.open(path, flags);
        return fd < 0 ? (fd, Stdlib.GetLastError()) : (fd, 0);
    };

    /// <summary>
    /// Opens <paramref name="path"/> with O_NONBLOCK (a FIFO without a writer would block open(2)
    /// forever) and O_NOFOLLOW (a symlink fails with ELOOP and is never read), then asks fstat(2)
    /// on the open descriptor, not the name, whether it is a regular file.
    /// </summary>
    public static MessageFileOpening Open(string path, OpenFunction? open = null)
    {
        (int fd, Errno error) = (open ?? SystemOpen)(path, OpenFlags.O_RDONLY | OpenFlags.O_NONBLOCK | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC);
        if (fd < 0)
        {
            return new MessageFileOpening(Classify(error), null, Describe(error));
        }
        var file = new SafeFileHandle((IntPtr)fd, ownsHandle: true);
        if (Syscall.fstat(fd, out Stat st) != 0)
        {
            Errno e = Stdlib.GetLastError();
            file.Dispose();
            return new MessageFileOpening(MessageFileState.Failing, null, $"fstat failed: {Stdlib.strerror(e)}");
        }
        if (MaildirEntry.Kind(st.st_mode) is { } what)
        {
            file.Dispose();
            return new MessageFileOpening(MessageFileState.NotAMessage, null, what);
        }
        // Note: O_NONBLOCK has no effect on reads of a regular file (Linux open(2)); it stays set.
        return new MessageFileOpening(MessageFileState.Open, file, "");
    }

    /// <summary>
    /// What an open(2) error means for the message.
    /// Note: ENOENT/ENOTDIR: gone (Dovecot renamed it, or it was handed over): look it up again.
    /// ELOOP is what O_NOFOLLOW gives for a symlink, ENXIO what open gives for a socket: not a
    /// message. EACCES/EPERM: the daemon runs as the user Dovecot delivers as, so a file it may
    /// not read was made or changed by someone else; retrying will not fix it and would retry
    /// forever in silence, so it is held (an alert, listed with the reason, released by an
    /// admin after fixing it; the move into the hold area is a rename, which needs no read
    /// permission). Anything else (EIO, EMFILE, ENFILE, ENOMEM, EINTR, ...) may be passing, and
    /// moving the file on a disk that fails may fail too: the copy stays and is retried with
    /// the usual back-off, the reason in the journal at each attempt.
    /// </summary>
    public static MessageFileState Classify(Errno error) => error switch
    {
        Errno.ENOENT or Errno.ENOTDIR => MessageFileState.Gone,
        Errno.ELOOP or Errno.ENXIO => MessageFileState.NotAMessage,
        Errno.EACCES or Errno.EPERM => MessageFileState.Unreadable,
        _ => MessageFileState.Failing,
    };

    private static string Describe(Errno error) => error switch
    {
        Errno.ELOOP => "a symbolic link",
        Errno.ENXIO => "a socket",
        _ => $"{Stdlib.strerror(error)} ({error})",
    };
}
