using Respaldo.Continuity;

namespace Respaldo.Daemon.Continuity;

internal static class ContinuityRegistration
{
    /// <summary>The set-up check: <see cref="SetupCheckRunner"/> (on demand: control bus, dashboard) and <see cref="SetupCheckService"/> (at start and periodically); the last report per tenant in <see cref="SetupReports"/>.</summary>
    public static WebApplicationBuilder AddContinuity(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<SetupReports>();
        builder.Services.AddSingleton(sp => new SetupChecker(sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton<SetupCheckRunner>();
        builder.Services.AddHostedService<SetupCheckService>();
        return builder;
    }
}
