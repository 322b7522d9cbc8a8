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
            return Journal.Journal.Open(settings.JournalPath, sp.GetRequiredService<ILoggerFactory>().CreateLogger("Respaldo.Journal"));
        });
        builder.Services.AddSingleton(sp => new RespaldoRuntime(
            sp.GetRequiredService<InitialSettings>().Settings,
            sp.GetRequiredService<Journal.Journal>(),
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddHostedService<ControllerService>();
        return builder;
    }
}

/// <summary>The thin loop the host runs: all the work is in <see cref="RespaldoRuntime"/>.</summary>
internal sealed class ControllerService(RespaldoRuntime runtime) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => runtime.RunAsync(stoppingToken);
}
