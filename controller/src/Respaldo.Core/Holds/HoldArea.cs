using Respaldo.Mailboxes;
using Respaldo.Storage;

namespace Respaldo.Holds;

/// <summary>
/// Where messages the primary refused for good wait for a decision: held/TENANT/MAILBOX/BASENAME
/// under the state directory, outside Dovecot's view (so the webmail no longer shows them as
/// "will reach your mailbox"). Moving in and out is a rename, as in Postfix's queue.
/// </summary>
public sealed class HoldArea(string root)
{
    public string Root { get; } = Path.GetFullPath(root);

    public string DirectoryOf(string tenantId, string mailbox) => Path.Combine(Root, tenantId, mailbox);

    /// <summary>Moves a stored message into the hold area; returns its new path, or null if it had vanished.</summary>
    public string? Hold(WaitingMessage message)
    {
        string target = DirectoryOf(message.TenantId, message.Mailbox);
        Directory.CreateDirectory(target);
        return StoredCopy.MoveInto(message, target);
    }

    /// <summary>Puts a held message back into its mailbox's new/ for another hand-over attempt.</summary>
    public static string Release(string heldPath, string maildir)
    {
        string newDir = Path.Combine(maildir, "new");
        foreach (string sub in new[] { "new", "cur", "tmp" })
        {
            CreateLikeParent(Path.Combine(maildir, sub));
        }
        string destination = Path.Combine(newDir, Path.GetFileName(heldPath));
        File.Move(heldPath, destination, overwrite: false);
        AtomicFile.SyncDirectory(newDir);
        return destination;
    }

    /// <summary>
    /// Creates a directory and its missing parents with the mode of the nearest one that exists
    /// (the maildirs' 2770, group mail): a mailbox whose maildir is gone (removed by an admin) gets
    /// it back as Dovecot would make it. Note: created with the daemon's umask (0027), Dovecot,
    /// running as the mail user, could not write into it, and every later delivery to that
    /// mailbox failed (451, left in Postfix's queue).
    /// </summary>
    private static void CreateLikeParent(string directory)
    {
        var missing = new Stack<string>();
        string? existing = Path.GetFullPath(directory);
        while (existing is not null && !Directory.Exists(existing))
        {
            missing.Push(existing);
            existing = Path.GetDirectoryName(existing);
        }
        if (existing is null || missing.Count == 0)
        {
            return;
        }
        UnixFileMode mode = File.GetUnixFileMode(existing);
        while (missing.TryPop(out string? dir))
        {
            Directory.CreateDirectory(dir);
            File.SetUnixFileMode(dir, mode);
        }
    }
}
