using Respaldo.Journaling;
using Respaldo.Configuration;
using Respaldo.Supervision;

namespace Respaldo.Daemon.Hosting;

internal static class ControllerRegistration
{
    /// <summary>
    /// The journal and the runtime (settings + supervisor, swapped together on reload), run by
    /// <see cref="ControllerService"/>. Web pages and the control bus ask the runtime for the
    /// current settings at each request; nothing else keeps a copy.
    /// </summary>
    public static WebApplicationBuilder AddController(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp =>
        {
            RespaldoSettings settings = sp.GetRequiredService<InitialSettings>().Settings;
            // Note: a journal that cannot be opened is a broken environment: the daemon does
            // not start without it (no hand-over may happen without a place to record it).
            return Journal.Open(settings.JournalPath, sp.GetRequiredService<ILoggerFactory>().CreateLogger("Respaldo.Journaling"));
        });
        builder.Services.AddSingleton(sp => new RespaldoRuntime(
            sp.GetRequiredService<InitialSettings>().Settings,
            sp.GetRequiredService<Journal>(),
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddHostedService<ControllerService>();
        // Note: the host waits this long for ControllerService to drain on stop (30 s by default):
        // a message whose final dot is out must get its reply and be journaled before the process
        // ends, or it is sent again after the restart (a duplicate). systemd is told the same
        // (EXTEND_TIMEOUT_USEC, Systemd/SystemdServices).
        builder.Services.AddOptions<HostOptions>().Configure<InitialSettings>((o, initial) =>
            o.ShutdownTimeout = RespaldoRuntime.DrainLimitFor(initial.Settings.Controller));
        return builder;
    }
}

/// <summary>The thin loop the host runs: all the work is in <see cref="RespaldoRuntime"/>.</summary>
internal sealed partial class ControllerService(RespaldoRuntime runtime, ILogger<ControllerService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await runtime.RunAsync(stoppingToken);
        }
        catch (Exception e) when (!(e is OperationCanceledException && stoppingToken.IsCancellationRequested))
        {
            // Note: the host stops when a background service fails (StopHost), but exits 0
            // (dotnet/runtime#67146), and systemd's Restart=on-failure ignores a clean exit: the
            // controller would stay down. A non-zero exit code is what makes systemd restart it.
            LogStopped(logger, e);
            Environment.ExitCode = 1;
            throw;
        }
    }

    [LoggerMessage(EventId = 1007, Level = LogLevel.Critical, Message = "the controller stopped on an error; exiting non-zero so that systemd restarts it")]
    private static partial void LogStopped(ILogger logger, Exception exception);
}
