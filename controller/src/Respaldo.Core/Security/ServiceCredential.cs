using System.Security.Cryptography;
using System.Text;
using Respaldo.Configuration;
using Respaldo.Storage;

namespace Respaldo.Security;

/// <summary>
/// The controller's own login to the backup's submission service, for alerts and bounces.
/// 'respaldoctl render' makes it once (a random password; its bcrypt hash in a passwd-file
/// Dovecot checks); the daemon reads the password when it sends. Both files live in
/// STATE/secrets/, readable by their owner (the mail user the daemon runs as) only.
/// </summary>
public sealed record ServiceCredential(string UserName, string Password)
{
    /// <summary>The SASL login name; no '@', so it can never be a mailbox.</summary>
    public const string User = "respaldo-alerts";

    public static string Directory(RespaldoSettings s) => Path.Combine(s.StateDirectory, "secrets");

    public static string PasswordPath(RespaldoSettings s) => Path.Combine(Directory(s), "submission.password");

    public static string PasswdPath(RespaldoSettings s) => Path.Combine(Directory(s), "submission.passwd");

    /// <summary>The envelope and header sender of what the backup itself sends.</summary>
    public static string SenderAddress(RespaldoSettings s) => $"respaldo@{s.Hostname}";

    /// <summary>Reads the credential; null when render has not made it yet.</summary>
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
    /// changes nothing. <paramref name="owner"/> (uid, gid) becomes the files' owner when given;
    /// <paramref name="authGroup"/> (Dovecot's auth process, which runs as user dovecot) may read
    /// the hash file, never the password.
    /// </summary>
    public static bool EnsureCreated(RespaldoSettings s, (uint Uid, uint Gid)? owner, uint? authGroup)
    {
        string dir = Directory(s);
        System.IO.Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute);
        bool created = false;
        if (Load(s) is null || !File.Exists(PasswdPath(s)))
        {
            string password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
            // Note: the password file first: a crash between the two leaves a password without
            // a hash, and the next render makes both again.
            AtomicFile.WriteIfChanged(PasswordPath(s), Encoding.ASCII.GetBytes(password + "\n"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
            AtomicFile.WriteIfChanged(PasswdPath(s), Encoding.ASCII.GetBytes($"{User}:{PasswordHash.Create(password, 10)}\n"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
            created = true;
        }
        if (owner is { } o)
        {
            foreach ((string path, uint gid) in new[] { (dir, authGroup ?? o.Gid), (PasswordPath(s), o.Gid), (PasswdPath(s), authGroup ?? o.Gid) })
            {
                if (Mono.Unix.Native.Syscall.chown(path, o.Uid, gid) != 0)
                {
                    throw new IOException($"cannot give {path} to uid {o.Uid}: {Mono.Unix.Native.Stdlib.GetLastError()}");
                }
            }
        }
        return created;
    }
}
