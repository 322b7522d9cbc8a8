using Mono.Unix.Native;

namespace Respaldo.Mailboxes;

/// <summary>
/// What kind of thing a name in a maildir's new/ or cur/ is. Dovecot only ever puts regular
/// files there; anything else (a FIFO, a directory, a socket, a symlink) was put there by
/// someone else and is never a message: reading a FIFO blocks forever, a symlink may point
/// at any file the daemon can read.
/// </summary>
public static class MaildirEntry
{
    /// <summary>Null when <paramref name="path"/> is a regular file or is gone; otherwise what it is ("a FIFO", ...). lstat(2): a symlink is a symlink.</summary>
    public static string? NotARegularFile(string path)
    {
        if (Syscall.lstat(path, out Stat st) != 0)
        {
            return null;
        }
        return Kind(st.st_mode);
    }

    /// <summary>Null for a regular file; otherwise a short description of the file type in <paramref name="mode"/>.</summary>
    public static string? Kind(FilePermissions mode) => (mode & FilePermissions.S_IFMT) switch
    {
        FilePermissions.S_IFREG => null,
        FilePermissions.S_IFDIR => "a directory",
        FilePermissions.S_IFIFO => "a FIFO",
        FilePermissions.S_IFLNK => "a symbolic link",
        FilePermissions.S_IFSOCK => "a socket",
        FilePermissions.S_IFCHR or FilePermissions.S_IFBLK => "a device",
        _ => "not a regular file",
    };
}
