using System.Security.Cryptography;
using System.Text;
using Mono.Unix.Native;
using Respaldo.Configuration;
using Respaldo.Storage;

namespace Respaldo.Security;

/// <summary>
/// The key the backup seals accepted mail with (an ARC set, RFC 8617, signed by rspamd).
/// 'respaldoctl render' makes it once: RSA 2048 in /etc/respaldo/arc/arc.key (beside the
/// configuration file), and beside it
/// dns.txt, the TXT record the admin publishes (SELECTOR._domainkey.ARCDOMAIN) so that
/// the primary can verify the seal. An existing key is kept: a new one would break
/// every seal until DNS caught up.
/// </summary>
/// <remarks>
/// SECURITY: the directory and the key belong to root, readable by rspamd's group only
/// (0750/0640), in root's configuration directory, where no unprivileged user can plant
/// anything. They are changed through descriptors opened with O_NOFOLLOW all the same, so
/// a symlink there makes render fail instead of handing root's chown to its target.
/// </remarks>
public static class ArcKey
{
    public const int Bits = 2048;

    public static string Directory(RespaldoSettings s) => Path.GetDirectoryName(s.ArcKeyPath)!;

    public static string DnsRecordPath(RespaldoSettings s) => Path.Combine(Directory(s), "dns.txt");

    /// <summary>The DNS name of the key's TXT record.</summary>
    public static string RecordName(RespaldoSettings s) => $"{s.Filter.ArcSelector}._domainkey.{s.Filter.ArcDomain}";

    /// <summary>
    /// Makes the key when missing and (re)writes dns.txt; returns true when the key is new.
    /// <paramref name="readerGroup"/> (rspamd's group) may read it; null leaves the group as it is.
    /// </summary>
    public static bool EnsureCreated(RespaldoSettings s, uint? readerGroup)
    {
        string dir = Directory(s);
        System.IO.Directory.CreateDirectory(dir);
        Own(dir, OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY, FilePermissions.S_IRWXU | FilePermissions.S_IRGRP | FilePermissions.S_IXGRP, readerGroup);
        bool created = false;
        string pem;
        if (File.Exists(s.ArcKeyPath))
        {
            pem = File.ReadAllText(s.ArcKeyPath);
        }
        else
        {
            using RSA rsa = RSA.Create(Bits);
            pem = rsa.ExportRSAPrivateKeyPem() + "\n";
            AtomicFile.Write(s.ArcKeyPath, Encoding.ASCII.GetBytes(pem), UnixFileMode.UserRead | UnixFileMode.UserWrite);
            created = true;
        }
        Own(s.ArcKeyPath, OpenFlags.O_RDONLY, FilePermissions.S_IRUSR | FilePermissions.S_IWUSR | FilePermissions.S_IRGRP, readerGroup);
        AtomicFile.WriteIfChanged(DnsRecordPath(s), Encoding.ASCII.GetBytes(ZoneLine(s, pem) + "\n"),
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        return created;
    }

    /// <summary>The TXT record's value: "v=DKIM1; k=rsa; p=BASE64" (RFC 6376 §3.6.1).</summary>
    public static string RecordValue(string privateKeyPem)
    {
        using RSA rsa = RSA.Create();
        rsa.ImportFromPem(privateKeyPem);
        return "v=DKIM1; k=rsa; p=" + Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo());
    }

    /// <summary>The record in zone-file form, its value split into strings of at most 255 octets (RFC 1035 §3.3.14).</summary>
    public static string ZoneLine(RespaldoSettings s, string privateKeyPem)
    {
        string value = RecordValue(privateKeyPem);
        var parts = new List<string>();
        for (int i = 0; i < value.Length; i += 250)
        {
            parts.Add($"\"{value.Substring(i, Math.Min(250, value.Length - i))}\"");
        }
        return $"{RecordName(s)}. IN TXT ( {string.Join(' ', parts)} )";
    }

    private static void Own(string path, OpenFlags flags, FilePermissions mode, uint? group)
    {
        int fd = Syscall.open(path, flags | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC);
        if (fd < 0)
        {
            throw new IOException($"cannot open {path} (not following symlinks): {Stdlib.strerror(Stdlib.GetLastError())}");
        }
        try
        {
            if (Syscall.fchmod(fd, mode) != 0
                || (Syscall.getuid() == 0 && Syscall.fchown(fd, 0, group ?? unchecked((uint)-1)) != 0))
            {
                throw new IOException($"cannot set the owner or mode of {path}: {Stdlib.strerror(Stdlib.GetLastError())}");
            }
        }
        finally
        {
            _ = Syscall.close(fd);
        }
    }
}
