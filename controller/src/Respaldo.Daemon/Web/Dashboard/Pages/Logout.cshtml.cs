using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Respaldo.Daemon.Web.Dashboard.Pages;

/// <summary>Ends the session (POST only, with its anti-forgery token).</summary>
public sealed class LogoutModel : PageModel
{
    public IActionResult OnGet() => Redirect("/");

    public async Task<IActionResult> OnPostAsync()
    {
        await HttpContext.SignOutAsync(DashboardAccess.CookieScheme);
        return Redirect("/login");
    }
}
