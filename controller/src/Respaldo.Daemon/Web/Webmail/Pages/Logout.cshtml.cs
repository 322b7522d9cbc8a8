using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Respaldo.Daemon.Web.Webmail.Pages;

/// <summary>Ends the session: its IMAP connection closes and the password is forgotten.</summary>
public sealed class LogoutModel(WebmailSessions sessions) : PageModel
{
    public IActionResult OnGet() => LocalRedirect(WebmailAccess.BasePath);

    public async Task<IActionResult> OnPostAsync()
    {
        if (WebmailAccess.SessionId(User) is { } id)
        {
            await sessions.EndAsync(id);
        }
        await HttpContext.SignOutAsync(WebmailAccess.CookieScheme);
        return LocalRedirect(WebmailAccess.BasePath + "/login");
    }
}
