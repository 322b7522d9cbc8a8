using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Respaldo.Mailboxes;

/// <summary>
/// Names in a mailbox's new/ or cur/ that are not messages (see <see cref="MaildirEntry"/>):
/// never read, never handed over, never deleted (they are not ours), and reported once each
/// with a warning, not at every rescan. Shared by the scanner, the watcher and the hand-over.
/// </summary>
public sealed partial class StrayEntries(ILogger logger)
{
    private readonly ConcurrentDictionary<string, byte> _reported = new(StringComparer.Ordinal);

    /// <summary>Logs the entry unless it was already reported; true when it was new.</summary>
    public bool Report(string tenantId, string mailbox, string path, string what)
    {
        if (!_reported.TryAdd(path, 0))
        {
            return false;
        }
        LogStray(logger, tenantId, mailbox, Path.GetFileName(path), what, path);
        return true;
    }

    /// <summary>Whether <paramref name="path"/> was reported (tests, the dashboard).</summary>
    public bool WasReported(string path) => _reported.ContainsKey(path);

    /// <summary>After a full scan: forget what is no longer there, so that it is reported again if it comes back.</summary>
    public void RetainOnly(IReadOnlySet<string> present)
    {
        foreach (string path in _reported.Keys)
        {
            if (!present.Contains(path))
            {
                _reported.TryRemove(path, out _);
            }
        }
    }

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "tenant {Tenant} mailbox {Mailbox} file {Message}: {What}, not a message: never read nor handed over; left in place for an admin to remove ({Path})")]
    private static partial void LogStray(ILogger logger, string tenant, string mailbox, string message, string what, string path);
}
