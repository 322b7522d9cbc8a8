using Microsoft.AspNetCore.Authorization;
using Respaldo.Configuration;
using Respaldo.Daemon.Hosting;
using Respaldo.Daemon.Web.Shared;
using Respaldo.Security;
using Respaldo.Supervision;

namespace Respaldo.Daemon.Web.Webmail;

internal static class WebmailRegistration
{
    /// <summary>
    /// The webmail under /webmail: its own cookie login (mailbox + password, checked by Dovecot),
    /// in-memory sessions, its own login throttle, texts; the shared web pieces (Razor Pages,
    /// anti-forgery, languages, security headers) come from <see cref="WebSecurity"/>.
    /// </summary>
    public static WebApplicationBuilder AddWebmail(this WebApplicationBuilder builder)
    {
        RespaldoSettings settings = builder.LoadedSettings();
        bool https = settings.Web.CertificateFile is not null;
        builder.Services.AddSingleton<ITextSource, WebmailTexts>();
        builder.Services.AddSingleton<WebmailSessions>();
        builder.Services.AddSingleton(sp => new Respaldo.Webmail.SendLimit(sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddKeyedSingleton(WebmailAccess.CookieScheme, (sp, _) => new LoginThrottle(sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddAuthentication()
            .AddCookieLogin(WebmailAccess.CookieScheme, WebmailAccess.CookieName, WebmailAccess.BasePath, WebmailAccess.BasePath + "/login",
                settings.Web.SessionTimeout, https,
                (user, context) => context.RequestServices.GetRequiredService<WebmailSessions>().Touch(WebmailAccess.SessionId(user)) is not null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(WebmailAccess.Policy, p => p.AddAuthenticationSchemes(WebmailAccess.CookieScheme).RequireAuthenticatedUser());
        builder.Services.Configure<Microsoft.AspNetCore.Mvc.RazorPages.RazorPagesOptions>(o =>
        {
            o.Conventions.AuthorizeFolder("/Webmail", WebmailAccess.Policy);
            o.Conventions.AllowAnonymousToPage("/Webmail/Pages/Login");
        });
        return builder;
    }

    /// <summary>The frame, downloads and branding; the pages are Razor Pages mapped with the dashboard's.</summary>
    public static WebApplication MapWebmail(this WebApplication app)
    {
        app.MapWebmailEndpoints();
        return app;
    }
}
