namespace Respaldo.Mailboxes;

/// <summary>
/// The full scan: every tenant mailbox's new/ and cur/ (never tmp/, where Dovecot is still
/// writing). Used at start, after an inotify overflow, and as the periodic safety net.
/// Only regular files are messages: a FIFO, a directory, a socket or a symlink there is
/// reported to <paramref name="strays"/> and left out (lstat, so a symlink is never followed).
/// </summary>
public sealed class MailboxScanner(MaildirLayout layout, StrayEntries? strays = null)
{
    /// <summary>The stray entries the last <see cref="Scan"/> saw (complete once it was enumerated to the end).</summary>
    public HashSet<string> LastStrays { get; private set; } = new(StringComparer.Ordinal);

    /// <summary>Each mailbox found on disk with its messages (possibly none).</summary>
    public IEnumerable<(string TenantId, string Mailbox, List<WaitingMessage> Messages)> Scan()
    {
        var seenStrays = new HashSet<string>(StringComparer.Ordinal);
        LastStrays = seenStrays;
        if (!Directory.Exists(layout.Root))
        {
            yield break;
        }
        foreach (string domainDir in SafeDirectories(layout.Root))
        {
            string domain = Path.GetFileName(domainDir);
            foreach (string mailboxDir in SafeDirectories(domainDir))
            {
                string local = Path.GetFileName(mailboxDir);
                var messages = new List<WaitingMessage>();
                string? tenantId = null;
                foreach (string sub in new[] { "new", "cur" })
                {
                    foreach (string file in SafeFiles(Path.Combine(mailboxDir, sub)))
                    {
                        if (Path.GetFileName(file).StartsWith('.'))
                        {
                            continue;
                        }
                        if (MaildirEntry.NotARegularFile(file) is { } what)
                        {
                            seenStrays.Add(file);
                            if (layout.TenantForDomain(domain) is { } owner)
                            {
                                strays?.Report(owner.Id, $"{local}@{domain}", file, what);
                            }
                            continue;
                        }
                        WaitingMessage? m = layout.Describe(domain, local, file);
                        if (m is not null)
                        {
                            messages.Add(m);
                            tenantId = m.TenantId;
                        }
                    }
                }
                tenantId ??= layout.TenantForDomain(domain)?.Id;
                if (tenantId is not null)
                {
                    yield return (tenantId, $"{local}@{domain}", messages);
                }
            }
        }
    }

    // Note: a directory removed while we list it is not an error, as a file that vanished
    // between listing and opening is looked up again, never treated as an error
    // (docs/ARCHITECTURE.md, "The index").
    private static IEnumerable<string> SafeDirectories(string dir)
    {
        try
        {
            return Directory.GetDirectories(dir);
        }
        catch (Exception e) when (e is DirectoryNotFoundException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static IEnumerable<string> SafeFiles(string dir)
    {
        try
        {
            // Note: every entry, directories too: a directory in new/ is reported like a FIFO.
            return Directory.GetFileSystemEntries(dir);
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }
}
