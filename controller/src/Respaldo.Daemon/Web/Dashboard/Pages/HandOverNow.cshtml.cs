using Microsoft.AspNetCore.Mvc;
using Respaldo.HandOver;
using Respaldo.Status;
using Respaldo.Supervision;
using Respaldo.Events;

namespace Respaldo.Daemon.Web.Dashboard.Pages;

/// <summary>
/// "Hand over now": the POST asks the tenant's loop to probe and send everything at once and
/// redirects here; the page shows the run in progress (n of m, rate, errors) until it is done,
/// updated by live.js, or without JavaScript by refreshing itself while it runs.
/// </summary>
public sealed partial class HandOverNowModel(StatusReader status, ILogger<HandOverNowModel> logger) : TenantPageModel(status)
{
    public HandOverProgress? Shown { get; private set; }
    public bool Running { get; private set; }
    public bool Refresh { get; private set; }

    public void OnGet(long? since)
    {
        TenantSupervisor s = Status.Runtime.Supervisor.Find(Tenant.Id)!;
        Running = s.Current is not null;
        Shown = s.Current ?? s.Last;
        // Refresh while a run goes on, or while the one just asked for has not reported yet (probing).
        bool awaited = since is { } ms && (s.Last is null || s.Last.Started.ToUnixTimeMilliseconds() < ms) && Status.Now.ToUnixTimeMilliseconds() - ms < 120_000;
        Refresh = Running || awaited;
    }

    public IActionResult OnPost()
    {
        Status.Runtime.Supervisor.Find(Tenant.Id)!.HandOverNow();
        LogRequested(logger, Tenant.Id, User.Identity?.Name ?? "?");
        return Redirect($"/t/{Tenant.Id}/handover?since={Status.Now.ToUnixTimeMilliseconds()}");
    }

    [LoggerMessage(EventId = 1605, Level = LogLevel.Information, Message = "tenant {Tenant}: hand over now, asked by {User}")]
    private static partial void LogRequested(ILogger logger, string tenant, string user);
}
