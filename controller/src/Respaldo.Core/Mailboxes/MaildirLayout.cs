using Respaldo.Configuration;

namespace Respaldo.Mailboxes;

/// <summary>
/// Where Dovecot keeps each address's maildir (mail_location = maildir:ROOT/%Ld/%Ln in the
/// rendered dovecot.conf) and how a path maps back to a message.
/// </summary>
public sealed class MaildirLayout(string root, TenantDirectory tenants)
{
    public string Root { get; } = Path.GetFullPath(root);

    public Tenant? TenantForDomain(string domain) => tenants.ForDomain(domain);

    /// <summary>
    /// Whether <paramref name="address"/> is the address of <paramref name="mailbox"/> (its "local@domain"
    /// as <see cref="Describe(string, Func{string, FileInfo?}?)"/> reads it from the maildir's path):
    /// Dovecot files an address under its lower-cased domain and local part, so the comparison
    /// ignores case, as the path does.
    /// </summary>
    public static bool IsAddressOf(string address, string mailbox)
    {
        int at = address.LastIndexOf('@');
        return at > 0 && at < address.Length - 1 && string.Equals(address, mailbox, StringComparison.OrdinalIgnoreCase);
    }

    public string MaildirOf(string address) => MaildirOf(Root, address);

    /// <summary>The maildir of <paramref name="address"/> under the maildirs' <paramref name="root"/>.</summary>
    public static string MaildirOf(string root, string address)
    {
        int at = address.LastIndexOf('@');
        return Path.Combine(Path.GetFullPath(root), address[(at + 1)..].ToLowerInvariant(), address[..at].ToLowerInvariant());
    }

    /// <summary>
    /// The message a path names, when it is a file in some mailbox's new/ or cur/ and its
    /// domain belongs to a tenant; null otherwise (tmp/, index files, unknown domains).
    /// </summary>
    public WaitingMessage? Describe(string path, Func<string, FileInfo?>? stat = null)
    {
        string relative = Path.GetRelativePath(Root, path);
        string[] parts = relative.Split('/');
        if (parts.Length != 4 || parts[2] is not ("new" or "cur") || parts[3].StartsWith('.'))
        {
            return null;
        }
        return Describe(parts[0], parts[1], path, stat);
    }

    /// <summary>
    /// The tenant and journal key of the message a path names, without touching the file (it may be gone).
    /// Note: the watcher asks this for every deletion, most of them the echo of the hand-over's own
    /// unlinks (docs/ARCHITECTURE.md, "Settling"): a path of the form inotify reports
    /// (ROOT/domain/local/new|cur/name) is read in place, the key the only string made.
    /// </summary>
    public (string TenantId, string Key)? KeyOf(string path)
    {
        ReadOnlySpan<char> p = path;
        if (p.Length > Root.Length + 1 && p.StartsWith(Root, StringComparison.Ordinal) && p[Root.Length] == '/' && Root != "/")
        {
            ReadOnlySpan<char> rest = p[(Root.Length + 1)..];
            int a = rest.IndexOf('/');
            int b = a < 0 ? -1 : rest[(a + 1)..].IndexOf('/');
            int c = b < 0 ? -1 : rest[(a + b + 2)..].IndexOf('/');
            if (c >= 0)
            {
                ReadOnlySpan<char> domain = rest[..a];
                ReadOnlySpan<char> local = rest.Slice(a + 1, b);
                ReadOnlySpan<char> sub = rest.Slice(a + b + 2, c);
                ReadOnlySpan<char> name = rest[(a + b + c + 3)..];
                if (domain.IsEmpty || local.IsEmpty || sub.IsEmpty || name.IsEmpty || name.Contains('/') || domain is "." or ".." || local is "." or "..")
                {
                    return KeyOfAnyPath(path);
                }
                if (sub is not ("new" or "cur") || name[0] == '.')
                {
                    return null;
                }
                int colon = name.IndexOf(':');
                ReadOnlySpan<char> baseName = colon < 0 ? name : name[..colon];
                if (tenants.ForDomain(domain) is not { } tenant)
                {
                    return null;
                }
                // Note: "local@domain/BASENAME", copied from the path into one string.
                int d = Root.Length + 1;
                int l = d + a + 1;
                int n = l + b + 1 + c + 1;
                return (tenant.Id, string.Create(local.Length + domain.Length + baseName.Length + 2, (Path: path, Domain: d, DomainLength: a, Local: l, LocalLength: b, Name: n, NameLength: baseName.Length), static (key, s) =>
                {
                    ReadOnlySpan<char> from = s.Path;
                    from.Slice(s.Local, s.LocalLength).CopyTo(key);
                    key[s.LocalLength] = '@';
                    from.Slice(s.Domain, s.DomainLength).CopyTo(key[(s.LocalLength + 1)..]);
                    key[s.LocalLength + 1 + s.DomainLength] = '/';
                    from.Slice(s.Name, s.NameLength).CopyTo(key[(s.LocalLength + s.DomainLength + 2)..]);
                }));
            }
        }
        return KeyOfAnyPath(path);
    }

    /// <summary>KeyOf for a path of any other form (relative parts, doubled slashes, outside the root).</summary>
    private (string TenantId, string Key)? KeyOfAnyPath(string path)
    {
        string relative = Path.GetRelativePath(Root, path);
        string[] parts = relative.Split('/');
        if (parts.Length != 4 || parts[2] is not ("new" or "cur") || parts[3].StartsWith('.'))
        {
            return null;
        }
        Tenant? tenant = tenants.ForDomain(parts[0]);
        return tenant is null ? null : (tenant.Id, $"{parts[1]}@{parts[0]}/{MaildirName.BaseName(parts[3])}");
    }

    public WaitingMessage? Describe(string domain, string local, string path, Func<string, FileInfo?>? stat = null)
    {
        Tenant? tenant = tenants.ForDomain(domain);
        if (tenant is null)
        {
            return null;
        }
        string file = Path.GetFileName(path);
        long? size = MaildirName.Size(file);
        DateTimeOffset? arrived = MaildirName.Arrived(file);
        if (size is null || arrived is null)
        {
            FileInfo? info = (stat ?? StatFile)(path);
            if (info is null)
            {
                return null;
            }
            size ??= info.Length;
            arrived ??= info.LastWriteTimeUtc;
        }
        string maildir = Path.Combine(Root, domain, local);
        return new WaitingMessage(tenant.Id, $"{local}@{domain}", maildir, MaildirName.BaseName(file), path, size.Value, arrived.Value);
    }

    private static FileInfo? StatFile(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? info : null;
    }

    /// <summary>
    /// Finds a message again by base name after its file vanished from where it was seen:
    /// Dovecot moves new/X to cur/X:2,FLAGS when a webmail user reads it.
    /// </summary>
    public static string? Relocate(string maildir, string baseName)
    {
        foreach (string sub in new[] { "cur", "new" })
        {
            string dir = Path.Combine(maildir, sub);
            string exact = Path.Combine(dir, baseName);
            if (File.Exists(exact))
            {
                return exact;
            }
            if (Directory.Exists(dir))
            {
                string? found = Directory.EnumerateFiles(dir, baseName + ":*").FirstOrDefault();
                if (found is not null)
                {
                    return found;
                }
            }
        }
        return null;
    }
}
