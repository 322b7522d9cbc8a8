using System.Net;
using Respaldo.Configuration;
using Respaldo.Supervision;
using Respaldo.Health;

namespace Respaldo.Daemon.Web;

internal static class WebRegistration
{
    /// <summary>Kestrel listens where web.listen says (loopback by default), HTTPS when a certificate is configured.</summary>
    public static WebApplicationBuilder AddWeb(this WebApplicationBuilder builder)
    {
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            RespaldoSettings settings = kestrel.ApplicationServices.GetRequiredService<Respaldo.Daemon.Hosting.InitialSettings>().Settings;
            foreach (HostPort endpoint in settings.Web.Listen)
            {
                void Configure(Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions listen)
                {
                    if (settings.Web.CertificateFile is { } cert && settings.Web.KeyFile is { } key)
                    {
                        listen.UseHttps(System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(cert, key));
                    }
                }
                if (endpoint.IsWildcard)
                {
                    kestrel.ListenAnyIP(endpoint.Port, Configure);
                }
                else if (IPAddress.TryParse(endpoint.Host, out IPAddress? address))
                {
                    kestrel.Listen(address, endpoint.Port, Configure);
                }
                else
                {
                    kestrel.ListenLocalhost(endpoint.Port, Configure);
                }
            }
        });
        return builder;
    }

    /// <summary>
    /// <c>/healthz</c>: 200 "ok" while every loop beats; 503 "stuck: tenant a, mailbox watcher"
    /// when a heartbeat is overdue (the same <see cref="Liveness"/> the systemd watchdog asks).
    /// Names only, no data, no login.
    /// </summary>
    public static WebApplication MapHealth(this WebApplication app)
    {
        app.MapGet("/healthz", (Respaldo.Supervision.RespaldoRuntime runtime, TimeProvider time) =>
        {
            Liveness liveness = Liveness.Of(runtime.Supervisor.Heartbeats, time.GetUtcNow());
            return Results.Text(liveness.Text, "text/plain; charset=utf-8", statusCode: liveness.IsAlive ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
        return app;
    }
}
