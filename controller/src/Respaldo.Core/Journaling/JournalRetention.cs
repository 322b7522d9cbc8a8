using Microsoft.Extensions.Logging;

namespace Respaldo.Journaling;

/// <summary>
/// Deletes the journal's history older than the keep period (<c>journal.keepDays</c>), once at
/// start and then every <see cref="Interval"/>, so that the status queries and /metrics stay
/// bounded however long the backup runs. The keep period is asked for at each round, so a
/// reload's new value applies at the next one.
/// </summary>
public sealed partial class JournalRetention(Journal journal, Func<TimeSpan> keep, TimeProvider time, ILogger logger)
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    /// <summary>One round: prunes everything older than now minus the keep period; returns the rows deleted.</summary>
    public async Task<long> PruneOnceAsync(CancellationToken cancellationToken = default)
    {
        DateTimeOffset cutoff = time.GetUtcNow() - keep();
        long deleted = await journal.PruneAsync(cutoff, cancellationToken);
        if (deleted > 0)
        {
            LogPruned(logger, deleted, cutoff);
        }
        return deleted;
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await PruneOnceAsync(cancellationToken);
            }
            catch (Microsoft.Data.Sqlite.SqliteException e)
            {
                // Note: a failed prune only leaves old rows for the next round; it must never stop the controller.
                LogPruneFailed(logger, e.Message);
            }
            await Task.Delay(Interval, time, cancellationToken);
        }
    }

    [LoggerMessage(EventId = 1302, Level = LogLevel.Information, Message = "journal retention: {Count} row(s) older than {Cutoff:u} pruned")]
    private static partial void LogPruned(ILogger logger, long count, DateTimeOffset cutoff);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Warning, Message = "journal retention: pruning failed ({Reason}); tried again in an hour")]
    private static partial void LogPruneFailed(ILogger logger, string reason);
}
