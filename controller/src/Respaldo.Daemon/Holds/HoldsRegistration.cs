using Respaldo.Bounces;
using Respaldo.Holds;
using Respaldo.Supervision;

namespace Respaldo.Daemon.Holds;

internal static class HoldsRegistration
{
    /// <summary>
    /// The admin's decisions about held messages (release, bounce) and the bounce sender they
    /// use: one <see cref="HeldMessages"/> for the control bus and the dashboard alike.
    /// </summary>
    public static WebApplicationBuilder AddHolds(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IBounceSender>(sp =>
        {
            RespaldoRuntime runtime = sp.GetRequiredService<RespaldoRuntime>();
            return new SubmissionBounceSender(() => runtime.Settings);
        });
        builder.Services.AddSingleton(sp =>
        {
            RespaldoRuntime runtime = sp.GetRequiredService<RespaldoRuntime>();
            return new HeldMessages(runtime.Journal, () => runtime.Settings, sp.GetRequiredService<IBounceSender>(), sp.GetRequiredService<TimeProvider>());
        });
        return builder;
    }
}
