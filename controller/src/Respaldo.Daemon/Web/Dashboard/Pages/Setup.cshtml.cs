using Microsoft.AspNetCore.Mvc;
using Respaldo.Continuity;
using Respaldo.Daemon.Continuity;
using Respaldo.Status;

namespace Respaldo.Daemon.Web.Dashboard.Pages;

/// <summary>
/// The tenant's set-up check (README "Set-up check"): the last report the daemon kept, one row
/// per check with what was seen and the fix; "Check now" runs it again and comes back here.
/// </summary>
public sealed partial class SetupModel(StatusReader status, SetupReports reports, SetupCheckRunner runner, ILogger<SetupModel> logger) : TenantPageModel(status)
{
    public SetupReport? Report { get; private set; }

    public void OnGet() => Report = reports.Last(Tenant.Id);

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        LogRequested(logger, Tenant.Id, User.Identity?.Name ?? "?");
        await runner.RunAsync([Tenant], cancellationToken);
        return Redirect($"/t/{Tenant.Id}/setup");
    }

    /// <summary>The CSS class and the English text (a text key) of a status.</summary>
    public static (string Class, string Text) Look(CheckStatus s) => s switch
    {
        CheckStatus.Ok => ("ok", "ok"),
        CheckStatus.Warning => ("warn", "warning"),
        CheckStatus.Failing => ("bad", "failing"),
        _ => ("warn", "could not check"),
    };

    [LoggerMessage(EventId = 2203, Level = LogLevel.Information, Message = "tenant {Tenant}: set-up check now, asked by {User}")]
    private static partial void LogRequested(ILogger logger, string tenant, string user);
}
