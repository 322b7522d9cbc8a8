using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Respaldo.Configuration;
using Respaldo.Mailboxes;
using Respaldo.Status;

namespace Respaldo.Daemon.Web.Dashboard.Pages;

/// <summary>The start page: a tenant's user goes straight to its overview; an admin sees every tenant.</summary>
public sealed class IndexModel(StatusReader status, Respaldo.Continuity.SetupReports setup) : PageModel
{
    public IReadOnlyList<TenantStatus> Tenants { get; private set; } = [];

    /// <summary>The provider's summary of each tenant's last set-up check (null: not checked yet).</summary>
    public Respaldo.Continuity.SetupReport? Setup(string tenantId) => setup.Last(tenantId);

    /// <summary>Mail no configured tenant owns (a tenant or domain removed while its mail waited); admins only.</summary>
    public IReadOnlyList<OrphanedMail> Orphans { get; private set; } = [];

    public IActionResult OnGet()
    {
        IReadOnlyList<Tenant> visible = DashboardAccess.Visible(User, status.Runtime.Settings);
        if (!DashboardAccess.IsAdmin(User) && visible.Count == 1)
        {
            return Redirect($"/t/{visible[0].Id}");
        }
        Tenants = visible.Select(t => status.Read(t.Id)).OfType<TenantStatus>().ToList();
        // Note: the places are other (former) tenants' domains and ids: only the provider's admin sees them.
        Orphans = DashboardAccess.IsAdmin(User) ? status.Runtime.Supervisor.Orphans : [];
        return Page();
    }
}
