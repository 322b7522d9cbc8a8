namespace Respaldo.Daemon.Hosting;

internal static class LoggingRegistration
{
    /// <summary>
    /// Under systemd, entries straight into journald with fields to filter on (TENANT=, MAILBOX=,
    /// MAIL_FILE=, OUTCOME=: <see cref="JournaldLoggerProvider"/>); elsewhere (the lab, a terminal)
    /// one line per event with a timestamp on the console.
    /// </summary>
    public static WebApplicationBuilder AddRespaldoLogging(this WebApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        if (JournaldLoggerProvider.Applies())
        {
            builder.Logging.AddProvider(new JournaldLoggerProvider());
        }
        else
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fff ";
                o.UseUtcTimestamp = true;
            });
        }
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        return builder;
    }
}
