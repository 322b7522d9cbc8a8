using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Respaldo.Configuration;
using Respaldo.Daemon.Hosting;
using Respaldo.Daemon.Web.Api;
using Respaldo.Daemon.Web.Shared;
using Respaldo.Security;
using Respaldo.Status;
using Respaldo.Supervision;

namespace Respaldo.Daemon.Web.Dashboard;

internal static class DashboardRegistration
{
    /// <summary>The dashboard: its cookie login, API tokens, authorization policies, texts and the status reader.</summary>
    public static WebApplicationBuilder AddDashboard(this WebApplicationBuilder builder)
    {
        // Note: the settings loaded at start (the DI container does not exist yet); afterwards
        // everything asks RespaldoRuntime.Settings.
        RespaldoSettings settings = builder.LoadedSettings();
        bool https = settings.Web.CertificateFile is not null;
        builder.AddWebShared(settings);
        builder.Services.AddSingleton<ITextSource, DashboardTexts>();
        builder.Services.AddSingleton(sp => new StatusReader(sp.GetRequiredService<RespaldoRuntime>(), sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddKeyedSingleton(DashboardAccess.CookieScheme, (sp, _) => new LoginThrottle(sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddAuthentication(DashboardAccess.CookieScheme)
            .AddCookieLogin(DashboardAccess.CookieScheme, "respaldo-dashboard", "/", "/login", settings.Web.SessionTimeout, https,
                (user, context) => DashboardAccess.StillValid(user, context.RequestServices.GetRequiredService<RespaldoRuntime>().Settings))
            .AddScheme<AuthenticationSchemeOptions, ApiTokenHandler>(DashboardAccess.TokenScheme, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(DashboardAccess.PagesPolicy, p => p.AddAuthenticationSchemes(DashboardAccess.CookieScheme).RequireAuthenticatedUser())
            .AddPolicy(DashboardAccess.ReadPolicy, p => p.AddAuthenticationSchemes(DashboardAccess.CookieScheme, DashboardAccess.TokenScheme).RequireAuthenticatedUser())
            .AddPolicy(DashboardAccess.WritePolicy, p => p.AddAuthenticationSchemes(DashboardAccess.TokenScheme).RequireAuthenticatedUser());
        builder.Services.Configure<Microsoft.AspNetCore.Mvc.RazorPages.RazorPagesOptions>(o =>
        {
            // Note: every dashboard page needs a login unless it says otherwise (the login page).
            o.Conventions.AuthorizeFolder("/Dashboard", DashboardAccess.PagesPolicy);
            o.Conventions.AllowAnonymousToPage("/Dashboard/Pages/Login");
        });
        return builder;
    }

    public static WebApplication MapDashboard(this WebApplication app)
    {
        app.UseWebShared();
        app.MapRazorPages();
        app.MapStatusApi();
        return app;
    }
}
