using Respaldo.Supervision;

namespace Respaldo.Daemon.Continuity;

/// <summary>
/// The periodic set-up check: every tenant shortly after start, then every <see cref="Interval"/>.
/// A run that fails is logged and the next one comes at its time.
/// </summary>
internal sealed partial class SetupCheckService(RespaldoRuntime runtime, SetupCheckRunner runner, TimeProvider time, ILogger<SetupCheckService> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(4);

    /// <summary>Note: after start, so the first check does not compete with the start-up scan and the first probes.</summary>
    public static readonly TimeSpan FirstAfter = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Delay(FirstAfter, time, stoppingToken);
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                await runner.RunAsync(runtime.Settings.Tenants, stoppingToken);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                LogTooLong(logger, SetupCheckRunner.Limit.TotalSeconds);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(EventId = 2202, Level = LogLevel.Warning, Message = "set-up check: the periodic run took longer than {Seconds} s and was stopped; the next one runs at its time")]
    private static partial void LogTooLong(ILogger logger, double seconds);
}
