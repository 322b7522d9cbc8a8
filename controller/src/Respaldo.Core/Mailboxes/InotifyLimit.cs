using System.Globalization;

namespace Respaldo.Mailboxes;

/// <summary>
/// The kernel's ceiling on inotify watches (<c>fs.inotify.max_user_watches</c>) against what the
/// maildirs need. Note: the watcher watches every directory under the maildir root (the root,
/// each domain, each mailbox and its <c>new/</c>, <c>cur/</c> and <c>tmp/</c>); past the ceiling
/// the directories left unwatched are seen only by the periodic rescan, so mail there waits up to
/// <c>controller.rescanIntervalSeconds</c>. The ceiling counts every watch of the daemon's user.
/// </summary>
public static class InotifyLimit
{
    public const string MaxUserWatchesFile = "/proc/sys/fs/inotify/max_user_watches";

    /// <summary>The ceiling, or null when it cannot be read (not Linux, no /proc).</summary>
    public static long? Read(string file = MaxUserWatchesFile)
    {
        try
        {
            return long.TryParse(File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long value) ? value : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The watches a maildir tree of this shape takes: the root, each domain, each mailbox with its three subdirectories.</summary>
    public static long WatchesFor(int domains, int mailboxes) => 1L + domains + (4L * mailboxes);

    /// <summary>
    /// Whether a watcher's error is the ceiling reached. Note: .NET's FileSystemWatcher reports a
    /// failed inotify_add_watch(2) with ENOSPC as an IOException whose HResult is that errno (28).
    /// </summary>
    public static bool IsReached(Exception e) => e is IOException { HResult: 28 };

    /// <summary>The value to give <c>fs.inotify.max_user_watches</c> for a tree this size: twice what it takes, for growth and the other processes of the user.</summary>
    public static long Suggested(long needed) => Math.Max(needed * 2, 65_536);
}
