using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Mono.Unix.Native;
using Respaldo.Configuration;
using Respaldo.Storage;

namespace Respaldo.Security;

/// <summary>
/// The controller's own login to the backup's submission service, for alerts and bounces.
/// 'respaldoctl render' makes it once (a random password; its bcrypt hash in a passwd-file
/// Dovecot checks); the daemon reads the password when it sends. Both files live in
/// STATE/secrets/.
/// </summary>
/// <remarks>
/// SECURITY: render runs as root (ExecReload=+, postinst), but STATE/ belongs to the daemon's
/// user and STATE/maildirs/ to the mail user, as which every Dovecot mail process runs (mail_uid);
/// earlier versions made them one user. Whatever those users can write must not steer
/// root: so STATE/secrets/ is owned by root (mode 0711: anyone may pass, nobody but root may
/// list or change it), opened with O_NOFOLLOW and checked with fstat; a secrets/ that is a
/// symlink, not a directory, or not root's (as earlier versions made it) is renamed aside,
/// untouched, and made anew; the files in it are written by <see cref="AtomicFile"/> (random
/// temporary name, O_EXCL|O_NOFOLLOW, fchown/fchmod on the descriptor): the password
/// root:DAEMONGROUP 0440 (the daemon reads it by its group; the mail user cannot), the hash root:dovecot 0440.
/// </remarks>
public sealed record ServiceCredential(string UserName, string Password)
{
    /// <summary>The SASL login name; no '@', so it can never be a mailbox.</summary>
    public const string User = "respaldo-alerts";

    private const string DirectoryName = "secrets";
    private const string PasswordName = "submission.password";
    private const string PasswdName = "submission.passwd";

    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    public static string Directory(RespaldoSettings s) => Path.Combine(s.StateDirectory, DirectoryName);

    public static string PasswordPath(RespaldoSettings s) => Path.Combine(Directory(s), PasswordName);

    public static string PasswdPath(RespaldoSettings s) => Path.Combine(Directory(s), PasswdName);

    /// <summary>The envelope and header sender of what the backup itself sends.</summary>
    public static string SenderAddress(RespaldoSettings s) => $"respaldo@{s.Hostname}";

    /// <summary>Reads the credential (the daemon, as its own user); null when render has not made it yet.</summary>
    public static ServiceCredential? Load(RespaldoSettings s)
    {
        try
        {
            string password = File.ReadAllText(PasswordPath(s)).Trim();
            return password.Length == 0 ? null : new ServiceCredential(User, password);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// Makes the credential when missing (render); an existing one is kept, so rendering twice
    /// changes nothing. <paramref name="owner"/> is the daemon user's (uid, gid), given when
    /// running as root: the directory and files then belong to root, the password file to the
    /// daemon user's group (never the mail user's: see daemonUser); <paramref name="authGroup"/> (Dovecot's auth process, which runs as
    /// user dovecot) may read the hash file, never the password.
    /// </summary>
    public static CredentialChange EnsureCreated(RespaldoSettings s, (uint Uid, uint Gid)? owner, uint? authGroup)
    {
        bool root = owner is not null;
        System.IO.Directory.CreateDirectory(s.StateDirectory);
        using DirectoryHandle state = DirectoryHandle.Open(s.StateDirectory);
        (DirectoryHandle secrets, string? movedAside) = OpenSecrets(state, root);
        using (secrets)
        {
            if (root && Syscall.fchown(secrets.Fd, 0, 0) != 0)
            {
                throw DirectoryHandle.Error($"cannot give {secrets.Path} to root");
            }
            if (Syscall.fchmod(secrets.Fd, (FilePermissions)(uint)DirectoryMode) != 0)
            {
                throw DirectoryHandle.Error($"cannot set the mode of {secrets.Path}");
            }
            FileOwner? passwordOwner = owner is { } o ? new FileOwner(0, o.Gid) : null;
            FileOwner? passwdOwner = owner is { } p ? new FileOwner(0, authGroup ?? p.Gid) : null;
            UnixFileMode passwordMode = root ? UnixFileMode.UserRead | UnixFileMode.GroupRead : UnixFileMode.UserRead | UnixFileMode.UserWrite;
            UnixFileMode passwdMode = root ? UnixFileMode.UserRead | UnixFileMode.GroupRead : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;

            byte[]? password = ReadTrusted(secrets, PasswordName, root);
            byte[]? passwd = ReadTrusted(secrets, PasswdName, root);
            bool created = false;
            if (password is null || Encoding.ASCII.GetString(password).Trim().Length == 0 || passwd is null)
            {
                string fresh = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
                password = Encoding.ASCII.GetBytes(fresh + "\n");
                passwd = Encoding.ASCII.GetBytes($"{User}:{PasswordHash.Create(fresh, 10)}\n");
                created = true;
            }
            // Note: the password file first: a crash between the two leaves a password without
            // a hash, and the next render makes both again. An existing pair is rewritten only
            // when its mode or owner is not what it should be (an upgrade).
            AtomicFile.WriteIfChanged(secrets, PasswordName, password, passwordMode, passwordOwner);
            AtomicFile.WriteIfChanged(secrets, PasswdName, passwd, passwdMode, passwdOwner);
            return new CredentialChange(created, movedAside);
        }
    }

    /// <summary>
    /// STATE/secrets/ as a directory we may trust; anything else found at that name is renamed
    /// aside (never followed, never changed) and a new directory made.
    /// </summary>
    private static (DirectoryHandle Secrets, string? MovedAside) OpenSecrets(DirectoryHandle state, bool root)
    {
        string? movedAside = null;
        for (int attempt = 0; attempt < 4; attempt++)
        {
            (DirectoryHandle? secrets, Errno error) = state.TryOpenChild(DirectoryName);
            if (secrets is null)
            {
                if (error == Errno.ENOENT)
                {
                    if (Syscall.mkdirat(state.Fd, DirectoryName, FilePermissions.S_IRWXU) != 0 && Stdlib.GetLastError() != Errno.EEXIST)
                    {
                        throw DirectoryHandle.Error($"cannot create {Path.Combine(state.Path, DirectoryName)}");
                    }
                    continue;
                }
                if (error is Errno.ELOOP or Errno.ENOTDIR)
                {
                    // A symlink, or a file: someone who can write STATE/ put it there.
                    movedAside = MoveAside(state);
                    continue;
                }
                throw new IOException($"cannot open {Path.Combine(state.Path, DirectoryName)}: {Stdlib.strerror(error)}");
            }
            // Note: as root, a directory the mail user owns is not ours: it could hold hard links
            // or symlinks to any file, and its owner could change it under us. Move it aside.
            if (root && secrets.Status().st_uid != 0)
            {
                secrets.Dispose();
                movedAside = MoveAside(state);
                continue;
            }
            return (secrets, movedAside);
        }
        throw new IOException($"{Path.Combine(state.Path, DirectoryName)} keeps being replaced; refusing to write the credential");
    }

    private static string MoveAside(DirectoryHandle state)
    {
        string aside = string.Create(CultureInfo.InvariantCulture, $"{DirectoryName}.untrusted-{DateTime.UtcNow:yyyyMMddHHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}");
        if (Syscall.renameat(state.Fd, DirectoryName, state.Fd, aside) != 0)
        {
            throw DirectoryHandle.Error($"cannot move {Path.Combine(state.Path, DirectoryName)} aside");
        }
        return Path.Combine(state.Path, aside);
    }

    /// <summary>The content of a regular file in the open directory (never through a symlink; as root, only root's); null otherwise.</summary>
    private static byte[]? ReadTrusted(DirectoryHandle directory, string name, bool root)
    {
        int fd = Syscall.openat(directory.Fd, name, OpenFlags.O_RDONLY | OpenFlags.O_NOFOLLOW | OpenFlags.O_NONBLOCK | OpenFlags.O_CLOEXEC);
        if (fd < 0)
        {
            return null;
        }
        using var file = new SafeFileHandle((IntPtr)fd, ownsHandle: true);
        if (Syscall.fstat(fd, out Stat st) != 0
            || (st.st_mode & FilePermissions.S_IFMT) != FilePermissions.S_IFREG
            || (root && st.st_uid != 0)
            || st.st_size is < 0 or > 4096)
        {
            return null;
        }
        byte[] content = new byte[st.st_size];
        int total = 0;
        int n;
        while (total < content.Length && (n = RandomAccess.Read(file, content.AsSpan(total), total)) > 0)
        {
            total += n;
        }
        return total == content.Length ? content : null;
    }
}

/// <summary>What <see cref="ServiceCredential.EnsureCreated"/> did: made a new credential, and where it moved an untrusted secrets/ it found.</summary>
public sealed record CredentialChange(bool Created, string? MovedAside);
