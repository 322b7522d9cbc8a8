namespace Respaldo.Mailboxes;

/// <summary>Stored copies no configured tenant owns: a maildir domain no tenant serves, or a hold area of a tenant id no longer configured.</summary>
public sealed record OrphanedMail(string Place, string Name, int Messages, long Bytes);

/// <summary>
/// Finds mail stranded by a tenant (or a domain) removed from the configuration. Nothing
/// hands such copies over (the primary went with the tenant) and nothing deletes them; this
/// only counts them, so check-config, the log and the status can say they are there.
/// Only regular files count (lstat), as everywhere else in the maildirs.
/// </summary>
public static class OrphanedMailFinder
{
    public static IReadOnlyList<OrphanedMail> Find(string maildirRoot, string holdRoot, TenantDirectory tenants, IEnumerable<string> tenantIds)
    {
        var found = new List<OrphanedMail>();
        foreach (string domainDir in Directories(maildirRoot))
        {
            string domain = Path.GetFileName(domainDir);
            if (tenants.ForDomain(domain) is not null)
            {
                continue;
            }
            (int count, long bytes) = Count(Directories(domainDir).SelectMany(mailbox => new[] { Path.Combine(mailbox, "new"), Path.Combine(mailbox, "cur") }));
            if (count > 0)
            {
                found.Add(new OrphanedMail("maildirs", domain, count, bytes));
            }
        }
        var ids = tenantIds.ToHashSet(StringComparer.Ordinal);
        foreach (string tenantDir in Directories(holdRoot))
        {
            string id = Path.GetFileName(tenantDir);
            if (ids.Contains(id))
            {
                continue;
            }
            (int count, long bytes) = Count(Directories(tenantDir));
            if (count > 0)
            {
                found.Add(new OrphanedMail("held", id, count, bytes));
            }
        }
        return found;
    }

    private static IEnumerable<string> Directories(string path)
    {
        try
        {
            return new DirectoryInfo(path).EnumerateDirectories()
                .Where(d => !d.Attributes.HasFlag(FileAttributes.ReparsePoint))
                .Select(d => d.FullName).OrderBy(d => d, StringComparer.Ordinal).ToList();
        }
        catch (Exception e) when (e is DirectoryNotFoundException or UnauthorizedAccessException or IOException)
        {
            return [];
        }
    }

    private static (int Count, long Bytes) Count(IEnumerable<string> directories)
    {
        int count = 0;
        long bytes = 0;
        foreach (string directory in directories)
        {
            try
            {
                foreach (FileInfo file in new DirectoryInfo(directory).EnumerateFiles())
                {
                    if (!file.Attributes.HasFlag(FileAttributes.ReparsePoint) && !file.Name.StartsWith('.'))
                    {
                        count++;
                        bytes += file.Length;
                    }
                }
            }
            catch (Exception e) when (e is DirectoryNotFoundException or UnauthorizedAccessException or IOException)
            {
                // A directory that went away or that we may not read: nothing to count there.
            }
        }
        return (count, bytes);
    }
}
