using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Respaldo.Configuration;
using Respaldo.Primary;
using Respaldo.Supervision;

namespace Respaldo.Daemon.Web.Webmail;

/// <summary>
/// A page of a logged-in mailbox: finds the user's session (or sends the browser to the login),
/// and hands the layout the tenant's branding and the primary's state for the banner.
/// </summary>
public abstract class WebmailPageModel(RespaldoRuntime runtime, WebmailSessions sessions) : PageModel
{
    protected RespaldoRuntime Runtime => runtime;

    public WebmailSession Mailbox { get; private set; } = null!;

    public Tenant Tenant { get; private set; } = null!;

    public override async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        WebmailSession? session = sessions.Touch(WebmailAccess.SessionId(User));
        Tenant? tenant = session is null ? null : runtime.Settings.Tenants.FirstOrDefault(t => t.Id == session.TenantId);
        if (session is null || tenant is null)
        {
            context.Result = new ChallengeResult(WebmailAccess.CookieScheme);
            return;
        }
        Mailbox = session;
        Tenant = tenant;
        ViewData[WebmailLayout.Brand] = tenant.Brand;
        ViewData[WebmailLayout.Tenant] = tenant.Id;
        ViewData[WebmailLayout.Address] = session.Address;
        ViewData[WebmailLayout.Primary] = runtime.Supervisor.Find(tenant.Id)?.State.Status ?? PrimaryStatus.Unknown;
        await next();
    }
}

/// <summary>The keys the webmail's pages leave in ViewData for _WebmailLayout.</summary>
public static class WebmailLayout
{
    public const string Brand = "webmail.brand";
    public const string Address = "webmail.address";
    public const string Primary = "webmail.primary";
    public const string Tenant = "webmail.tenant";

    /// <summary>The attachment mark: a paperclip drawn inline (no icon font or emoji font needed).</summary>
    public static readonly Microsoft.AspNetCore.Html.HtmlString Clip = new(
        "<svg viewBox=\"0 0 24 24\" aria-hidden=\"true\"><path d=\"M21 12l-8.5 8.5a5 5 0 0 1-7-7L14 5a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L15 8\"/></svg>");

    /// <summary>
    /// The webmail pages' policy: the shared one, plus frames from ourselves (the message frame)
    /// and the tenant's logo origin for images.
    /// </summary>
    public static string Policy(TenantBranding? brand)
    {
        string logo = brand?.LogoUrl is { } u ? " " + u.GetLeftPart(UriPartial.Authority) : "";
        return "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:" + logo +
            "; frame-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
    }
}
