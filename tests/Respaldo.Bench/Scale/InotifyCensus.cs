using System.Globalization;
using Mono.Unix.Native;

namespace Respaldo.Bench.Scale;

/// <summary>
/// Inotify watches of one process (lines "inotify wd:... ino:HEX" in /proc/PID/fdinfo/*):
/// those of the instance that watches the maildir root (the mailbox watcher), all of them, the
/// directories under the root, and the kernel's per-user limit.
/// </summary>
public sealed record InotifyWatches(int MaildirWatches, int AllWatches, int Directories, long Limit)
{
    public static InotifyWatches Count(int pid, string maildirRoot)
    {
        if (Syscall.stat(maildirRoot, out Stat root) != 0)
        {
            throw new IOException($"{maildirRoot}: {Stdlib.GetLastError()}");
        }
        string rootInode = " ino:" + root.st_ino.ToString("x", CultureInfo.InvariantCulture) + " ";
        int maildir = 0;
        int all = 0;
        foreach (string fd in Directory.EnumerateFiles($"/proc/{pid}/fdinfo"))
        {
            List<string> watches;
            try
            {
                watches = File.ReadLines(fd).Where(l => l.StartsWith("inotify wd:", StringComparison.Ordinal)).ToList();
            }
            catch (IOException)
            {
                continue; // Note: a descriptor closed while we read it.
            }
            all += watches.Count;
            if (watches.Any(l => l.Contains(rootInode, StringComparison.Ordinal)))
            {
                maildir += watches.Count;
            }
        }
        // Note: .NET's FileSystemWatcher with IncludeSubdirectories adds one watch per directory.
        int directories = 1 + Directory.EnumerateDirectories(maildirRoot, "*", SearchOption.AllDirectories).Count();
        long limit = long.Parse(File.ReadAllText("/proc/sys/fs/inotify/max_user_watches").Trim(), CultureInfo.InvariantCulture);
        return new InotifyWatches(maildir, all, directories, limit);
    }
}
