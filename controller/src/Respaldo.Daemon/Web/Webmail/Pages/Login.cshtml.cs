using MailKit.Net.Imap;
using MailKit.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Respaldo.Configuration;
using Respaldo.Security;
using Respaldo.Supervision;

namespace Respaldo.Daemon.Web.Webmail.Pages;

/// <summary>
/// The webmail's login: the mailbox address and its password, checked by Dovecot with an IMAP
/// login (the daemon never compares the password itself). Failures are slowed down per
/// address and client (<see cref="LoginThrottle"/>); the password is neither logged nor written anywhere.
/// </summary>
public sealed partial class LoginModel(
    RespaldoRuntime runtime, WebmailSessions sessions, [FromKeyedServices(WebmailAccess.CookieScheme)] LoginThrottle throttle, TimeProvider time,
    ILogger<LoginModel> logger)
    : PageModel
{
    public string? Error { get; private set; }

    public string? Address { get; private set; }

    public void OnGet() => Brand();

    public async Task<IActionResult> OnPostAsync(string? address, string? password, CancellationToken cancellationToken)
    {
        Brand();
        Address = address;
        string given = (address ?? "").Trim();
        string client = HttpContext.Connection.RemoteIpAddress?.ToString() ?? "?";
        // Note: Begin counts the attempt as a failure before Dovecot is asked (parallel guesses
        // cannot exceed the limit); Succeeded takes it back.
        // Note: the throttle counts the address as Dovecot will see it ("info@x." and "info@x"
        // are one mailbox, so one count).
        string throttleKey = MailAddress.TryNormalize(given, out string key, out _) ? key : given.ToLowerInvariant();
        LoginAdmission admission = throttle.Begin(throttleKey, HttpContext.Connection.RemoteIpAddress);
        if (!admission.Admitted)
        {
            LogThrottled(logger, given, client);
            Error = "Too many failed attempts. Try again later.";
            Response.Headers.RetryAfter = ((int)Math.Ceiling(admission.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            return Page();
        }
        // Note: an address under attack from many clients is slowed down for everyone, never refused.
        await Task.Delay(admission.Delay, time, cancellationToken);
        bool valid = MailAddress.TryNormalize(given, out string normalized, out _) && !string.IsNullOrEmpty(password);
        (Tenant Tenant, Mailbox Mailbox)? found = valid ? WebmailAccess.Find(runtime.Settings, normalized) : null;
        ImapClient? imap = null;
        if (found is not null)
        {
            try
            {
                imap = await WebmailSession.ConnectAsync(runtime.Settings.Listen.Imap, normalized, password!, cancellationToken);
            }
            catch (AuthenticationException)
            {
                imap = null;
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ImapProtocolException)
            {
                LogUnavailable(logger, found.Value.Tenant.Id, normalized, e.GetBaseException().Message);
                Error = "The mailbox service is not available. Try again in a minute.";
                Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return Page();
            }
        }
        if (imap is null)
        {
            LogFailed(logger, given, client);
            Error = "Wrong address or password.";
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }
        throttle.Succeeded(throttleKey, HttpContext.Connection.RemoteIpAddress);
        WebmailSession session = sessions.Start(normalized, found!.Value.Tenant.Id, password!);
        session.Adopt(imap);
        await HttpContext.SignInAsync(WebmailAccess.CookieScheme, WebmailAccess.Principal(session), new AuthenticationProperties { IsPersistent = false });
        LogLoggedIn(logger, session.TenantId, normalized, client);
        return LocalRedirect(WebmailAccess.BasePath);
    }

    /// <summary>The login page wears the branding of the tenant whose domain the browser asked for (webmail.suempresa.es).</summary>
    private void Brand()
    {
        if (WebmailAccess.ByHost(runtime.Settings, Request.Host.Host) is { } tenant)
        {
            ViewData[WebmailLayout.Brand] = tenant.Brand;
            ViewData[WebmailLayout.Tenant] = tenant.Id;
        }
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "webmail: {Mailbox} (tenant {Tenant}) logged in from {Address}")]
    private static partial void LogLoggedIn(ILogger logger, string tenant, string mailbox, string address);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "webmail: failed login for {Mailbox} from {Address}")]
    private static partial void LogFailed(ILogger logger, string mailbox, string address);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "webmail: login for {Mailbox} from {Address} refused: too many failures from there")]
    private static partial void LogThrottled(ILogger logger, string mailbox, string address);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Error, Message = "webmail: cannot reach Dovecot's IMAP for {Mailbox} (tenant {Tenant}): {Reason}")]
    private static partial void LogUnavailable(ILogger logger, string tenant, string mailbox, string reason);
}
