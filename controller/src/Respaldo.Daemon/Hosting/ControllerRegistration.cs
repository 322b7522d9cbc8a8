using Respaldo.Configuration;
using Respaldo.Supervision;

namespace Respaldo.Daemon.Hosting;

internal static class ControllerRegistration
{
    /// <summary>The journal, the watcher and one supervisor per tenant, run by <see cref="ControllerService"/>.</summary>
    public static WebApplicationBuilder AddController(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp =>
        {
            RespaldoSettings settings = sp.GetRequiredService<RespaldoSettings>();
            // Note: a journal that cannot be opened is a broken environment: the daemon does
            // not start without it (no hand-over may happen without a place to record it).
            return Journal.Journal.Open(settings.JournalPath, sp.GetRequiredService<ILoggerFactory>().CreateLogger("Respaldo.Journal"));
        });
        builder.Services.AddSingleton<Supervisor>();
        builder.Services.AddHostedService<ControllerService>();
        return builder;
    }
}

/// <summary>The thin loop the host runs: all the work is in <see cref="Supervisor"/>.</summary>
internal sealed class ControllerService(Supervisor supervisor) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => supervisor.RunAsync(stoppingToken);
}
