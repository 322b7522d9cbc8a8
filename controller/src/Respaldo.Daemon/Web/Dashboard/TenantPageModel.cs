using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Respaldo.Configuration;
using Respaldo.Status;

namespace Respaldo.Daemon.Web.Dashboard;

/// <summary>
/// Base of every page under /t/{tenant}: before any handler runs, the tenant in the URL must
/// exist and be visible to the signed-in user, else 404 (the same answer for "no such tenant"
/// and "not yours", so a tenant's user cannot probe other tenants' ids).
/// </summary>
public abstract class TenantPageModel(StatusReader status) : PageModel
{
    public StatusReader Status => status;

    public Tenant Tenant { get; private set; } = null!;

    public override void OnPageHandlerExecuting(PageHandlerExecutingContext context)
    {
        string? id = RouteData.Values["tenant"] as string;
        Tenant? tenant = DashboardAccess.Resolve(User, status.Runtime.Settings, id);
        if (tenant is null || status.Runtime.Supervisor.Find(tenant.Id) is null)
        {
            context.Result = NotFound();
            return;
        }
        Tenant = tenant;
        ViewData["Tenant"] = tenant.Id;
    }
}
