using Respaldo.Configuration;

namespace Respaldo.Daemon.Hosting;

/// <summary>The configuration as loaded at start; afterwards ask <c>RespaldoRuntime.Settings</c>, which reloads change.</summary>
internal sealed record InitialSettings(RespaldoSettings Settings);

internal static class SettingsRegistration
{
    /// <summary>
    /// Loads and validates the configuration file before anything starts. A bad file is a
    /// broken environment: the daemon refuses to start and says which fields are wrong.
    /// </summary>
    public static WebApplicationBuilder AddRespaldoSettings(this WebApplicationBuilder builder)
    {
        string path = ConfigurationLoader.ResolvePath(builder.Configuration["config"]);
        RespaldoSettings settings = ConfigurationLoader.Load(path);
        builder.Services.AddSingleton(new InitialSettings(settings));
        return builder;
    }
}
