using Microsoft.AspNetCore.Mvc;
using Respaldo.Continuity;
using Respaldo.Daemon.Continuity;
using Respaldo.Daemon.Drills;
using Respaldo.Drills;
using Respaldo.Status;

namespace Respaldo.Daemon.Web.Dashboard.Pages;

/// <summary>
/// The tenant's set-up check (README "Set-up check"): the last report the daemon kept, one row
/// per check with what was seen and the fix; "Check now" runs it again and comes back here.
/// </summary>
public sealed partial class SetupModel(StatusReader status, SetupReports reports, SetupCheckRunner runner, DrillRunner drills, ILogger<SetupModel> logger) : TenantPageModel(status)
{
    /// <summary>How many of the last fire drills the page lists.</summary>
    private const int DrillsShown = 10;

    public SetupReport? Report { get; private set; }

    /// <summary>The tenant's last fire drills, newest first (README "Fire drills").</summary>
    public IReadOnlyList<DrillResult> Drills { get; private set; } = [];

    /// <summary>True while a drill of this tenant runs.</summary>
    public bool DrillRunning { get; private set; }

    public void OnGet()
    {
        Report = reports.Last(Tenant.Id);
        Drills = Status.Drills(Tenant.Id, DrillsShown);
        DrillRunning = drills.IsRunning(Tenant.Id);
    }

    /// <summary>"Run a drill": starts it and comes back here at once; the page lists it when it ends.</summary>
    public IActionResult OnPostDrill()
    {
        if (Tenant.Drill is null)
        {
            return BadRequest();
        }
        LogDrillRequested(logger, Tenant.Id, User.Identity?.Name ?? "?");
        drills.Start(Tenant);
        return Redirect($"/t/{Tenant.Id}/setup");
    }

    /// <summary>Seconds from the drill's start to <paramref name="at"/>, or a dash when the step was not reached.</summary>
    public static string After(DrillResult d, DateTimeOffset? at) =>
        at is { } t ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{(t - d.Started).TotalSeconds:0.0} s") : "–";

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

    [LoggerMessage(EventId = 2305, Level = LogLevel.Information, Message = "tenant {Tenant}: fire drill now, asked by {User}")]
    private static partial void LogDrillRequested(ILogger logger, string tenant, string user);

    [LoggerMessage(EventId = 2203, Level = LogLevel.Information, Message = "tenant {Tenant}: set-up check now, asked by {User}")]
    private static partial void LogRequested(ILogger logger, string tenant, string user);
}
