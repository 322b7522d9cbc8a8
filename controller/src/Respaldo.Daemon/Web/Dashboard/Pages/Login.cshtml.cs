using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Respaldo.Daemon.Web.Shared;
using Respaldo.Security;
using Respaldo.Supervision;

namespace Respaldo.Daemon.Web.Dashboard.Pages;

/// <summary>The dashboard's login: users from the configuration, bcrypt hashes, failures slowed down per user and client (<see cref="LoginThrottle"/>).</summary>
public sealed partial class LoginModel(
    RespaldoRuntime runtime, [FromKeyedServices(DashboardAccess.CookieScheme)] LoginThrottle throttle, TimeProvider time, ILogger<LoginModel> logger) : PageModel
{
    public string? Error { get; private set; }

    public string ReturnUrl { get; private set; } = "/";

    public string? UserName { get; private set; }

    public void OnGet(string? returnUrl) => ReturnUrl = Url.IsLocalUrl(returnUrl) ? returnUrl : "/";

    public async Task<IActionResult> OnPostAsync(string? user, string? password, string? returnUrl)
    {
        ReturnUrl = Url.IsLocalUrl(returnUrl) ? returnUrl : "/";
        UserName = user;
        string name = (user ?? "").Trim();
        LoginAdmission admission = throttle.Begin(name, HttpContext.Connection.RemoteIpAddress);
        if (!admission.Admitted)
        {
            LogThrottled(logger, name, HttpContext.Connection.RemoteIpAddress?.ToString() ?? "?");
            Error = "Too many failed attempts. Try again later.";
            Response.Headers.RetryAfter = ((int)Math.Ceiling(admission.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            return Page();
        }
        // Note: a name under attack from many addresses is slowed down for everyone, never refused.
        await Task.Delay(admission.Delay, time, HttpContext.RequestAborted);
        ClaimsPrincipal? principal = name.Length == 0 || string.IsNullOrEmpty(password) ? null : DashboardAccess.Login(runtime.Settings, name, password);
        if (principal is null)
        {
            LogFailed(logger, name, HttpContext.Connection.RemoteIpAddress?.ToString() ?? "?");
            Error = "Wrong user or password.";
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }
        throttle.Succeeded(name, HttpContext.Connection.RemoteIpAddress);
        await HttpContext.SignInAsync(DashboardAccess.CookieScheme, principal, new AuthenticationProperties { IsPersistent = false });
        LogLoggedIn(logger, name);
        return LocalRedirect(ReturnUrl);
    }

    [LoggerMessage(EventId = 1601, Level = LogLevel.Information, Message = "dashboard: {User} logged in")]
    private static partial void LogLoggedIn(ILogger logger, string user);

    [LoggerMessage(EventId = 1602, Level = LogLevel.Warning, Message = "dashboard: failed login for {User} from {Address}")]
    private static partial void LogFailed(ILogger logger, string user, string address);

    [LoggerMessage(EventId = 1603, Level = LogLevel.Warning, Message = "dashboard: login for {User} from {Address} refused: too many failures from there")]
    private static partial void LogThrottled(ILogger logger, string user, string address);
}
