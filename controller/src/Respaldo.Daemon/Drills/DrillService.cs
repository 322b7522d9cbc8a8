using Respaldo.Configuration;
using Respaldo.Supervision;

namespace Respaldo.Daemon.Drills;

/// <summary>
/// Scheduled fire drills: each tenant with <c>tenants[].drill.everySeconds</c> gets a drill that
/// often (the first one interval after the tenant's last drill in the journal, at the soonest a
/// minute after start); off by default. The schedule is read again every
/// minute, so a reload changes it. A thin loop: <see cref="DrillRunner"/> does the work.
/// </summary>
internal sealed partial class DrillService(RespaldoRuntime runtime, DrillRunner runner, TimeProvider time, ILogger<DrillService> logger) : BackgroundService
{
    private static readonly TimeSpan Tick = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var due = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        while (!stoppingToken.IsCancellationRequested)
        {
            DateTimeOffset now = time.GetUtcNow();
            IReadOnlyList<Tenant> tenants = runtime.Settings.Tenants;
            foreach (Tenant tenant in tenants)
            {
                if (tenant.Drill is not { Every: var every } || every <= TimeSpan.Zero)
                {
                    due.Remove(tenant.Id);
                    continue;
                }
                if (!due.TryGetValue(tenant.Id, out DateTimeOffset at) || at > now + every)
                {
                    // Note: new (after a start too: one interval after the journal's last drill,
                    // so restarts do not postpone it forever), or a reload shortened the interval.
                    IReadOnlyList<Journaling.DrillRecord> last = runtime.Supervisor.Journal.Drills(tenant.Id, 1);
                    due[tenant.Id] = Respaldo.Drills.DrillSchedule.FirstDue(now, last.Count > 0 ? last[0].Started : null, every, Tick);
                    continue;
                }
                if (at <= now)
                {
                    due[tenant.Id] = now + every;
                    _ = RunOneAsync(tenant, stoppingToken);
                }
            }
            foreach (string gone in due.Keys.Where(id => tenants.All(t => t.Id != id)).ToList())
            {
                due.Remove(gone);
            }
            await Task.Delay(Tick, time, stoppingToken);
        }
    }

    private async Task RunOneAsync(Tenant tenant, CancellationToken stoppingToken)
    {
        try
        {
            await runner.RunAsync(tenant, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the drill's message, if it was sent, is handed over like any other.
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or Microsoft.Data.Sqlite.SqliteException)
        {
            LogFailed(logger, tenant.Id, e.Message);
        }
    }

    [LoggerMessage(EventId = 2303, Level = LogLevel.Error, Message = "fire drill: tenant {Tenant}: the scheduled drill could not run: {Reason}")]
    private static partial void LogFailed(ILogger logger, string tenant, string reason);
}
