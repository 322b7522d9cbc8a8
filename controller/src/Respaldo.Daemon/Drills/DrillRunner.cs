using Respaldo.Configuration;
using Respaldo.Drills;
using Respaldo.Events;
using Respaldo.Primary;
using Respaldo.Supervision;

namespace Respaldo.Daemon.Drills;

/// <summary>
/// Runs a tenant's fire drill (<see cref="FireDrill"/>), at most one per tenant at a time (a
/// second request joins the one running), journals it, and tells the alerts and /metrics
/// through a <see cref="DrillFinished"/> event.
/// </summary>
public sealed partial class DrillRunner(RespaldoRuntime runtime, DrillTickets tickets, TimeProvider time, ILogger<DrillRunner> logger)
{
    private readonly Dictionary<string, Task<DrillResult>> _running = new(StringComparer.Ordinal);

    /// <summary>The drill of <paramref name="tenant"/>; throws <see cref="InvalidOperationException"/> when it has no drill address.</summary>
    public Task<DrillResult> RunAsync(Tenant tenant, CancellationToken cancellationToken)
    {
        if (tenant.Drill is null)
        {
            throw new InvalidOperationException($"tenant {tenant.Id} has no drill: set tenants[].drill.address (a mailbox the primary has)");
        }
        lock (_running)
        {
            if (_running.TryGetValue(tenant.Id, out Task<DrillResult>? running) && !running.IsCompleted)
            {
                return running;
            }
            Task<DrillResult> task = Task.Run(() => OneAsync(tenant, cancellationToken), CancellationToken.None);
            _running[tenant.Id] = task;
            return task;
        }
    }

    /// <summary>True while a drill of the tenant runs.</summary>
    public bool IsRunning(string tenantId)
    {
        lock (_running)
        {
            return _running.TryGetValue(tenantId, out Task<DrillResult>? t) && !t.IsCompleted;
        }
    }

    /// <summary>Starts a drill and returns at once (the dashboard's button); the result is journaled, a failure to run is logged.</summary>
    public void Start(Tenant tenant)
    {
        _ = RunAsync(tenant, CancellationToken.None).ContinueWith(
            t => LogCouldNotRun(logger, tenant.Id, t.Exception!.GetBaseException().Message),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task<DrillResult> OneAsync(Tenant tenant, CancellationToken cancellationToken)
    {
        // Note: the hand-over's view (the last probes), not the accept-only rule's hysteresis: a
        // primary just back takes the drill's message at once though the border still treats it as down.
        PrimaryStatus Primary() => runtime.Supervisor.Find(tenant.Id)?.State.Status ?? PrimaryStatus.Unknown;
        var drill = new FireDrill(new DrillContext(runtime.Settings, tenant, tickets, runtime.Events, Primary, time));
        LogStarted(logger, tenant.Id, tenant.Drill!.Address);
        DrillResult result = await drill.RunAsync(cancellationToken);
        await runtime.Journal.RecordDrillAsync(result.ToRecord());
        if (result.Passed)
        {
            LogPassed(logger, tenant.Id, result.Id, result.Address,
                Seconds(result.Started, result.Accepted), Seconds(result.Started, result.Stored), Seconds(result.Started, result.Seen), Seconds(result.Started, result.HandedOver));
        }
        else
        {
            LogFailed(logger, tenant.Id, result.Id, result.Address, result.Step, result.Reason);
        }
        runtime.Events.Raise(result.ToEvent(time.GetUtcNow()));
        return result;
    }

    private static double Seconds(DateTimeOffset from, DateTimeOffset? to) => to is { } t ? Math.Round((t - from).TotalSeconds, 3) : double.NaN;

    [LoggerMessage(EventId = 2304, Level = LogLevel.Error, Message = "fire drill: tenant {Tenant}: the drill could not run: {Reason}")]
    private static partial void LogCouldNotRun(ILogger logger, string tenant, string reason);

    [LoggerMessage(EventId = 2300, Level = LogLevel.Information, Message = "fire drill: tenant {Tenant}: a test message to {Address} through the backup's intake")]
    private static partial void LogStarted(ILogger logger, string tenant, string address);

    [LoggerMessage(EventId = 2301, Level = LogLevel.Information, Message = "fire drill: tenant {Tenant}: drill {Drill} to {Address} passed: accepted after {Accepted} s, stored {Stored} s, seen {Seen} s, handed over {HandedOver} s")]
    private static partial void LogPassed(ILogger logger, string tenant, string drill, string address, double accepted, double stored, double seen, double handedOver);

    [LoggerMessage(EventId = 2302, Level = LogLevel.Warning, Message = "fire drill: tenant {Tenant}: drill {Drill} to {Address} failed at {Step}: {Reason}")]
    private static partial void LogFailed(ILogger logger, string tenant, string drill, string address, string step, string reason);
}
