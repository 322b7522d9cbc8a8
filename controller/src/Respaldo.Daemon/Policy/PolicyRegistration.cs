using Respaldo.Journaling;
using Respaldo.Policy;
using Respaldo.Supervision;

namespace Respaldo.Daemon.Policy;

internal static class PolicyRegistration
{
    /// <summary>
    /// The front door: <see cref="FrontDoorPolicy"/> (all the decisions, in Core) behind
    /// <see cref="PolicyService"/>, the unix socket Postfix's check_policy_service talks to; it
    /// honours the fire drills' tickets (<see cref="Respaldo.Drills.DrillTickets"/>, AddDrills).
    /// </summary>
    public static WebApplicationBuilder AddPolicyService(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(sp => new FrontDoorPolicy(
            new RuntimeFrontDoorContext(sp.GetRequiredService<RespaldoRuntime>(), sp.GetRequiredService<TimeProvider>()),
            sp.GetRequiredService<Journal>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("Respaldo.Policy"),
            sp.GetRequiredService<Respaldo.Drills.DrillTickets>()));
        builder.Services.AddHostedService<PolicyService>();
        return builder;
    }
}
