using Microsoft.Extensions.Logging;
using Respaldo.Configuration;
using Respaldo.Journaling;
using Respaldo.Mailboxes;

namespace Respaldo.Holds;

/// <summary>
/// Start-up (and a reload that adds a tenant back): a file in the hold area without a "held"
/// row was moved there just before a crash (or its journal write failed). Nothing would ever
/// show or send it again: record it as held, with what its trace headers still say, so it is
/// listed, released or bounced.
/// </summary>
public static partial class UnrecordedHolds
{
    public static async Task AdoptAsync(HoldArea holds, Journal journal, IEnumerable<Tenant> tenants, StrayEntries strays, ILogger logger)
    {
        if (!Directory.Exists(holds.Root))
        {
            return;
        }
        IReadOnlySet<string> recorded = journal.HeldPaths();
        foreach (Tenant tenant in tenants)
        {
            string tenantDir = Path.Combine(holds.Root, tenant.Id);
            if (!Directory.Exists(tenantDir))
            {
                continue;
            }
            foreach (string mailboxDir in Directory.EnumerateDirectories(tenantDir))
            {
                foreach (string file in Directory.EnumerateFiles(mailboxDir))
                {
                    if (recorded.Contains(file))
                    {
                        continue;
                    }
                    string mailbox = Path.GetFileName(mailboxDir);
                    // Note: opened like a message to hand over (O_NONBLOCK|O_NOFOLLOW, fstat): a FIFO
                    // here would block the start-up forever, a symlink could point anywhere.
                    MessageFileOpening opening = MessageFile.Open(file);
                    if (opening.State == MessageFileState.NotAMessage)
                    {
                        strays.Report(tenant.Id, mailbox, file, opening.Reason);
                        continue;
                    }
                    byte[] head = new byte[8192];
                    long size = 0;
                    int read = 0;
                    if (opening.File is { } handle)
                    {
                        using (handle)
                        {
                            try
                            {
                                size = RandomAccess.GetLength(handle);
                                read = RandomAccess.Read(handle, head, 0);
                            }
                            catch (IOException)
                            {
                                // Unreadable: recorded with an unknown envelope; the admin sees it listed.
                            }
                        }
                    }
                    TraceHeaders.Result trace = TraceHeaders.Parse(head.AsSpan(0, read));
                    await journal.RecordHoldAsync(new HoldRecord(tenant.Id, mailbox, Path.GetFileName(file), size, trace.Sender, trace.Recipient ?? mailbox, file,
                        "found in the hold area without a journal record (the controller stopped while holding it); the primary's reply is not known", null));
                    LogAdopted(logger, tenant.Id, mailbox, Path.GetFileName(file));
                }
            }
        }
    }

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "tenant {Tenant} mailbox {Mailbox} message {Message}: found in the hold area without a journal record; recorded as held")]
    private static partial void LogAdopted(ILogger logger, string tenant, string mailbox, string message);
}
