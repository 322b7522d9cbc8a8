using Microsoft.AspNetCore.Mvc;
using Respaldo.Journaling;
using Respaldo.Status;

namespace Respaldo.Daemon.Web.Dashboard.Pages;

/// <summary>A tenant at a glance: the primary, what waits, what arrived and went, held mail, storage, charts, alerts.</summary>
public sealed class OverviewModel(StatusReader status) : TenantPageModel(status)
{
    public TenantStatus State { get; private set; } = null!;
    public ChartSeries Day { get; private set; } = null!;
    public ChartSeries Month { get; private set; } = null!;
    public IReadOnlyList<AlertRow> Alerts { get; private set; } = [];

    public IActionResult OnGet()
    {
        State = Status.Read(Tenant.Id)!;
        Day = Status.Chart(Tenant.Id, TimeSpan.FromHours(24), 96);
        Month = Status.Chart(Tenant.Id, TimeSpan.FromDays(30), 120);
        Alerts = Status.Alerts(Tenant.Id, 20);
        return Page();
    }
}
