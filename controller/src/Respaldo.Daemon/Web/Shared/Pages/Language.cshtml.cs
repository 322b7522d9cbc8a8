using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Localization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Respaldo.Daemon.Web.Shared.Pages;

/// <summary>The language switch: a POST (with its anti-forgery token, like every POST) that sets the language cookie.</summary>
[AllowAnonymous]
public sealed class LanguageModel : PageModel
{
    public IActionResult OnGet() => Redirect("/");

    public IActionResult OnPost(string? lang, string? returnUrl)
    {
        string culture = lang == "en" ? "en-GB" : "es-ES";
        Response.Cookies.Append(WebSecurity.LanguageCookie, CookieRequestCultureProvider.MakeCookieValue(new RequestCulture(culture)),
            new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = Request.IsHttps, MaxAge = TimeSpan.FromDays(365), Path = "/" });
        return LocalRedirect(Url.IsLocalUrl(returnUrl) ? returnUrl : "/");
    }
}
