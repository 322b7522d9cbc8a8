using Respaldo.Supervision;

namespace Respaldo.Daemon.Continuity;

/// <summary>
/// The periodic set-up check: every tenant shortly after start, then every
/// <c>controller.setupCheckIntervalSeconds</c> (read again after each run, so a reload changes it);
/// zero runs it only on demand (doctor, the dashboard's "check now"). A run that fails is logged
/// and the next one comes at its time.
/// </summary>
internal sealed partial class SetupCheckService(RespaldoRuntime runtime, SetupCheckRunner runner, TimeProvider time, ILogger<SetupCheckService> logger) : BackgroundService
{
    /// <summary>Note: after start, so the first check does not compete with the start-up scan and the first probes.</summary>
    public static readonly TimeSpan FirstAfter = TimeSpan.FromSeconds(30);

    /// <summary>How often a schedule switched off (zero) is looked at again, in case a reload switched it on.</summary>
    private static readonly TimeSpan Recheck = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Delay(FirstAfter, time, stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan interval = runtime.Settings.Controller.SetupCheckInterval;
            if (interval <= TimeSpan.Zero)
            {
                await Task.Delay(Recheck, time, stoppingToken);
                continue;
            }
            try
            {
                await runner.RunAsync(runtime.Settings.Tenants, stoppingToken);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                LogTooLong(logger, SetupCheckRunner.Limit.TotalSeconds);
            }
            await Task.Delay(interval, time, stoppingToken);
        }
    }

    [LoggerMessage(EventId = 2202, Level = LogLevel.Warning, Message = "set-up check: the periodic run took longer than {Seconds} s and was stopped; the next one runs at its time")]
    private static partial void LogTooLong(ILogger logger, double seconds);
}
