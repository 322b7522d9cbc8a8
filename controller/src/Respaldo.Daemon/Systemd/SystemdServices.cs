using System.Globalization;
using System.Runtime.InteropServices;
using Respaldo.Supervision;
using Respaldo.Health;

namespace Respaldo.Daemon.Systemd;

/// <summary>
/// Sends READY=1 once the host has started (the journal is open, Kestrel and the control bus
/// listen: they all start before ApplicationStarted), STOPPING=1 when it stops, and keeps
/// STATUS= current.
/// </summary>
internal sealed class ReadinessReporter(SystemdNotifier notifier, RespaldoRuntime runtime, ConfigurationReloader reloader, IHostApplicationLifetime lifetime, TimeProvider time)
    : BackgroundService
{
    private static readonly TimeSpan Every = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!notifier.IsEnabled)
        {
            return;
        }
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using CancellationTokenRegistration onStarted = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        // Note: TimeoutStopSec= (60 s) is shorter than a drain may be (a message in flight gets
        // dataTimeout, its reply dataTimeout more): ask systemd for that long (systemd.service(5)).
        using CancellationTokenRegistration onStopping = lifetime.ApplicationStopping.Register(() =>
            notifier.Notify(string.Create(CultureInfo.InvariantCulture,
                $"STOPPING=1\nEXTEND_TIMEOUT_USEC={(long)runtime.DrainLimit.TotalMicroseconds}\nSTATUS=stopping: finishing the messages in flight")));
        await started.Task.WaitAsync(stoppingToken);
        string last = Line();
        notifier.Notify("READY=1\nSTATUS=" + last);
        using var timer = new PeriodicTimer(Every, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            string line = Line();
            if (line != last)
            {
                notifier.Status(line);
                last = line;
            }
        }
    }

    private string Line() => StatusLine.Compose(StatusLine.Glance(runtime.Supervisor), TimeZoneInfo.Local, time.GetUtcNow(), reloader.Problem);
}

/// <summary>
/// WATCHDOG=1 at half of WatchdogSec= while every loop's heartbeat is on time. When a loop
/// stops beating the pings stop too, and systemd kills and restarts the daemon
/// (Restart=on-failure): a hung controller is worse than a restarted one, which resumes from
/// the maildirs and the journal.
/// </summary>
internal sealed partial class WatchdogPinger(SystemdNotifier notifier, RespaldoRuntime runtime, TimeProvider time, ILogger<WatchdogPinger> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (notifier.WatchdogInterval is not { } interval)
        {
            return;
        }
        LogEnabled(logger, interval.TotalSeconds);
        string? overdueBefore = null;
        notifier.Notify("WATCHDOG=1");
        using var timer = new PeriodicTimer(interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            Liveness liveness = Liveness.Of(runtime.Supervisor.Heartbeats, time.GetUtcNow());
            if (liveness.IsAlive)
            {
                notifier.Notify("WATCHDOG=1");
                overdueBefore = null;
                continue;
            }
            string names = string.Join(", ", liveness.Overdue);
            if (names != overdueBefore)
            {
                LogStuck(logger, names);
                overdueBefore = names;
            }
        }
    }

    [LoggerMessage(EventId = 1903, Level = LogLevel.Information, Message = "systemd watchdog: pinging every {Seconds:0.###} s while the loops beat")]
    private static partial void LogEnabled(ILogger logger, double seconds);

    [LoggerMessage(EventId = 1904, Level = LogLevel.Critical, Message = "systemd watchdog: {Loops} stopped beating; no more pings, systemd will restart the daemon")]
    private static partial void LogStuck(ILogger logger, string loops);
}

/// <summary>SIGHUP (what ExecReload sends) re-reads the configuration instead of ending the process.</summary>
internal sealed class HangupReload(ConfigurationReloader reloader, IHostApplicationLifetime lifetime) : IHostedService, IDisposable
{
    private PosixSignalRegistration? _registration;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _registration = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            _ = ReloadAsync();
        });
        return Task.CompletedTask;
    }

    private async Task ReloadAsync()
    {
        try
        {
            await reloader.ReloadAsync("SIGHUP", lifetime.ApplicationStopping);
        }
        catch (OperationCanceledException)
        {
            // Stopping: the reload no longer matters.
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _registration?.Dispose();
}

internal static class SystemdRegistration
{
    /// <summary>Type=notify service: readiness, status, watchdog and reload on SIGHUP (deploy/systemd/respaldo.service).</summary>
    public static WebApplicationBuilder AddSystemdService(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<SystemdNotifier>();
        builder.Services.AddSingleton<ConfigurationReloader>();
        builder.Services.AddHostedService<HangupReload>();
        builder.Services.AddHostedService<ReadinessReporter>();
        builder.Services.AddHostedService<WatchdogPinger>();
        // Note: UseSystemd() picks journald's console format (<N> priority prefixes) and its own
        // READY=1/STOPPING=1 when systemd runs us; the rest is above.
        builder.Host.UseSystemd();
        return builder;
    }
}
