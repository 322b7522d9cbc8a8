using System.Net;
using Respaldo.Configuration;

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

    /// <summary><c>/healthz</c>: 200 while the daemon runs; no data, no login.</summary>
    public static WebApplication MapHealth(this WebApplication app)
    {
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        return app;
    }
}
