using Respaldo.Drills;

namespace Respaldo.Daemon.Drills;

internal static class DrillRegistration
{
    /// <summary>
    /// Fire drills: <see cref="DrillTickets"/> (shared with the front door, which honours them),
    /// <see cref="DrillRunner"/> (on demand: control bus, dashboard) and <see cref="DrillService"/>
    /// (each tenant's tenants[].drill.everySeconds).
    /// </summary>
    public static WebApplicationBuilder AddDrills(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<DrillTickets>();
        builder.Services.AddSingleton<DrillRunner>();
        builder.Services.AddHostedService<DrillService>();
        return builder;
    }
}
