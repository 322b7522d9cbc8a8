using System.Security.Claims;
using Respaldo.Configuration;

namespace Respaldo.Daemon.Web.Webmail;

/// <summary>
/// The webmail's login: a mailbox address and its own password, checked by Dovecot (an IMAP
/// LOGIN), never by us. The cookie carries only the session's random id, encrypted by ASP.NET
/// Core's data protection; the password stays in this process's memory (<see cref="WebmailSessions"/>).
/// </summary>
public static class WebmailAccess
{
    public const string CookieScheme = "Webmail";
    public const string Policy = "webmail";
    public const string CookieName = "respaldo-webmail";
    public const string BasePath = "/webmail";
    public const string SessionClaim = "respaldo:webmail-session";
    public const string TenantClaim = "respaldo:tenant";

    /// <summary>The tenant and mailbox of an address that may log in to the webmail (it has a password), or null.</summary>
    public static (Tenant Tenant, Mailbox Mailbox)? Find(RespaldoSettings settings, string address)
    {
        foreach (Tenant t in settings.Tenants)
        {
            foreach (Mailbox m in t.Mailboxes)
            {
                if (m.PasswordHash is not null && string.Equals(m.Address, address, StringComparison.Ordinal))
                {
                    return (t, m);
                }
            }
        }
        return null;
    }

    /// <summary>The tenant whose domains include the host name the browser asked for (webmail.suempresa.es), for the login page's branding.</summary>
    public static Tenant? ByHost(RespaldoSettings settings, string host)
    {
        string h = host.TrimEnd('.').ToLowerInvariant();
        return settings.Tenants.FirstOrDefault(t => t.ServesDomain(h));
    }

    public static ClaimsPrincipal Principal(WebmailSession session) =>
        new(new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, session.Address), new Claim(SessionClaim, session.Id), new Claim(TenantClaim, session.TenantId)],
            CookieScheme, ClaimTypes.Name, null));

    public static string? SessionId(ClaimsPrincipal user) => user.FindFirst(SessionClaim)?.Value;
}
