using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Localization;
using Respaldo.Configuration;

namespace Respaldo.Daemon.Web.Shared;

/// <summary>
/// The web pieces every area shares (the dashboard now, the webmail later): Razor Pages rooted
/// at /Web, anti-forgery, Spanish/English, data-protection keys kept in the state directory,
/// security headers, and <see cref="AddCookieLogin"/> for an area's own cookie login.
/// </summary>
public static class WebSecurity
{
    /// <summary>Cookie holding the language chosen with the switch (RequestLocalization's own format).</summary>
    public const string LanguageCookie = "respaldo-lang";

    public static WebApplicationBuilder AddWebShared(this WebApplicationBuilder builder, RespaldoSettings settings)
    {
        bool https = settings.Web.CertificateFile is not null;
        builder.Services.AddRazorPages(o =>
        {
            // Note: areas keep their pages under Web/<Area>/Pages and give each page an absolute
            // route (@page "/..."), so the folder layout never leaks into URLs.
            o.RootDirectory = "/Web";
        });
        builder.Services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "respaldo-csrf";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.HttpOnly = true;
            o.Cookie.SecurePolicy = https ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
            o.FormFieldName = "__csrf";
            o.HeaderName = "X-CSRF-Token";
        });
        // Note: keys on disk (state directory, mode 0700) so sessions and anti-forgery tokens
        // survive a restart; never in /tmp, never shared between hosts.
        string keys = Path.Combine(settings.StateDirectory, "web-keys");
        Directory.CreateDirectory(keys);
        File.SetUnixFileMode(keys, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        builder.Services.AddDataProtection().SetApplicationName("respaldo").PersistKeysToFileSystem(new DirectoryInfo(keys));
        // Note: the keys are protected by their directory (0700, the daemon's own user), not by an
        // XML encryptor; the warning ASP.NET Core logs about that at each start says nothing new.
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection.KeyManagement.XmlKeyManager", LogLevel.Error);
        builder.Services.AddRequestLocalization(o =>
        {
            CultureInfo[] cultures = [CultureInfo.GetCultureInfo("es-ES"), CultureInfo.GetCultureInfo("en-GB")];
            o.SupportedCultures = cultures;
            o.SupportedUICultures = cultures;
            o.DefaultRequestCulture = new RequestCulture("es-ES");
            o.FallBackToParentCultures = true;
            o.FallBackToParentUICultures = true;
            o.RequestCultureProviders =
            [
                new CookieRequestCultureProvider { CookieName = LanguageCookie },
                new AcceptLanguageHeaderRequestCultureProvider(),
            ];
        });
        builder.Services.AddSingleton<Texts>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.Configure<ForwardedHeadersOptions>(o => TrustProxies(o, settings.Web.TrustedProxies));
        return builder;
    }

    /// <summary>
    /// Adds one area's cookie login: its own cookie, limited to <paramref name="cookiePath"/>,
    /// HttpOnly, SameSite=Strict, sliding expiry after <paramref name="idle"/>, an absolute limit
    /// of 12 hours, and <paramref name="stillValid"/> asked on every request (a user removed from
    /// the configuration is logged out at once). API paths get 401/403 instead of a redirect.
    /// </summary>
    public static AuthenticationBuilder AddCookieLogin(
        this AuthenticationBuilder auth, string scheme, string cookieName, string cookiePath, string loginPath, TimeSpan idle, bool https,
        Func<ClaimsPrincipal, HttpContext, bool> stillValid)
    {
        return auth.AddCookie(scheme, o =>
        {
            o.Cookie.Name = cookieName;
            o.Cookie.Path = cookiePath;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = https ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
            o.LoginPath = loginPath;
            o.LogoutPath = loginPath;
            o.AccessDeniedPath = PathString.Empty;
            o.ExpireTimeSpan = idle;
            o.SlidingExpiration = true;
            o.Events.OnRedirectToLogin = c =>
            {
                if (IsApi(c.Request))
                {
                    c.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    return Task.CompletedTask;
                }
                c.Response.Redirect(c.RedirectUri);
                return Task.CompletedTask;
            };
            o.Events.OnRedirectToAccessDenied = c =>
            {
                c.Response.StatusCode = StatusCodes.Status403Forbidden;
                return Task.CompletedTask;
            };
            // Note: IssuedUtc moves with every sliding renewal; the login time is kept apart.
            o.Events.OnSigningIn = c =>
            {
                c.Properties.Items[LoginTimeItem] = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Task.CompletedTask;
            };
            // Note: the live numbers poll the API every second; that must not keep a session
            // alive forever: only pages a person opens renew it.
            o.Events.OnCheckSlidingExpiration = c =>
            {
                if (IsApi(c.Request))
                {
                    c.ShouldRenew = false;
                }
                return Task.CompletedTask;
            };
            o.Events.OnValidatePrincipal = async c =>
            {
                bool tooOld = !(c.Properties.Items.TryGetValue(LoginTimeItem, out string? at)
                    && long.TryParse(at, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out long seconds)
                    && DateTimeOffset.UtcNow - DateTimeOffset.FromUnixTimeSeconds(seconds) <= MaxSession);
                if (tooOld || c.Principal is null || !stillValid(c.Principal, c.HttpContext))
                {
                    c.RejectPrincipal();
                    await c.HttpContext.SignOutAsync(scheme);
                }
            };
        });
    }

    /// <summary>The longest a login lasts, however busy.</summary>
    public static readonly TimeSpan MaxSession = TimeSpan.FromHours(12);

    private const string LoginTimeItem = "respaldo:login";

    /// <summary>
    /// Believes X-Forwarded-For and X-Forwarded-Proto from <paramref name="proxies"/> only.
    /// </summary>
    /// <remarks>
    /// Note: ASP.NET Core trusts loopback proxies by default; those defaults are cleared, so with
    /// no web.trustedProxies no forwarded header is ever believed. With them, the chain is walked
    /// back from the nearest hop while each hop is a trusted proxy (ForwardLimit off): the first
    /// untrusted address is the client, whatever a client wrote further left.
    /// </remarks>
    public static void TrustProxies(ForwardedHeadersOptions options, IReadOnlyList<System.Net.IPNetwork> proxies)
    {
        options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (System.Net.IPNetwork network in proxies)
        {
            options.KnownIPNetworks.Add(network);
        }
        options.ForwardLimit = null;
    }

    public static bool IsApi(HttpRequest request) => request.Path.StartsWithSegments("/api", StringComparison.Ordinal);

    /// <summary>Forwarded headers from trusted proxies, security headers on every response, and the request localization.</summary>
    public static WebApplication UseWebShared(this WebApplication app)
    {
        // Note: first of all, so that the client address (the login throttle, /metrics' loopback
        // exemption) and the scheme (HSTS, Secure cookies) are the real client's everywhere after.
        app.UseForwardedHeaders();
        app.Use(async (context, next) =>
        {
            IHeaderDictionary h = context.Response.Headers;
            // Note: only our own CSS and script, no inline code, no framing (clickjacking), no
            // referrer leaking tenant URLs, no MIME sniffing.
            h.ContentSecurityPolicy = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
            h.XContentTypeOptions = "nosniff";
            h.XFrameOptions = "DENY";
            h["Referrer-Policy"] = "same-origin";
            // Note: IsHttps is true over our own TLS and behind a trusted proxy that said
            // X-Forwarded-Proto: https; cookies are Secure then too (CookieSecurePolicy.SameAsRequest).
            if (context.Request.IsHttps)
            {
                h.StrictTransportSecurity = "max-age=31536000";
            }
            await next();
        });
        app.UseRequestLocalization();
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapStaticAssets();
        return app;
    }
}
