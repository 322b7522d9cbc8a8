using Respaldo.Journaling;
using Respaldo.Status;

namespace Respaldo.Daemon.Web.Dashboard.Pages;

/// <summary>The probe history ("connection attempts"), newest first, filterable by result and host.</summary>
public sealed class AttemptsModel(StatusReader status) : TenantPageModel(status)
{
    public const int PageSize = 100;

    public IReadOnlyList<ProbeRow> Probes { get; private set; } = [];
    public string? Result { get; private set; }
    public string? Host { get; private set; }
    public int Total { get; private set; }

    public void OnGet(string? result, string? host, long? before)
    {
        Result = result is "up" or "down" ? result : null;
        Host = Tenant.Primary.Hosts.Any(h => h.ToString() == host) ? host : null;
        Probes = Status.Probes(Tenant.Id, Result switch { "up" => true, "down" => false, _ => null }, Host, PageSize, before);
        Total = Status.ProbeCount(Tenant.Id);
    }
}
