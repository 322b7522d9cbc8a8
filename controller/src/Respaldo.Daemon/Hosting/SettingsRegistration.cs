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
        var initial = new InitialSettings(settings);
        builder.Services.AddSingleton(initial);
        ((IHostApplicationBuilder)builder).Properties[typeof(InitialSettings)] = initial;
        return builder;
    }

    /// <summary>
    /// The configuration <see cref="AddRespaldoSettings"/> loaded, for registrations that need it
    /// before the container exists (the web's TLS and session settings): the file is read once.
    /// </summary>
    public static RespaldoSettings LoadedSettings(this WebApplicationBuilder builder) =>
        ((IHostApplicationBuilder)builder).Properties.TryGetValue(typeof(InitialSettings), out object? initial)
            ? ((InitialSettings)initial).Settings
            : throw new InvalidOperationException("AddRespaldoSettings must come first");
}
