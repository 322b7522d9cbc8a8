using System.Globalization;
using System.Text;
using Respaldo.HandOver;
using Respaldo.Primary;
using Respaldo.Supervision;
using Respaldo.Events;

namespace Respaldo.Daemon.Systemd;

/// <summary>What one tenant looks like for the status line.</summary>
internal sealed record TenantGlance(string TenantId, string PrimaryHost, PrimaryStatus Primary, DateTimeOffset? Since, int Waiting, HandOverProgress? Running);

/// <summary>
/// The STATUS= text <c>systemctl status respaldo</c> shows: what the daemon is doing, in one
/// line, busiest tenants first ("3 messages waiting for mail.suempresa.es, primary down since
/// 10:42"). Pure, so it is tested without a service manager.
/// </summary>
internal static class StatusLine
{
    /// <summary>At most this many tenants are spelled out; the rest are counted.</summary>
    public const int MaxTenants = 3;

    public static string Compose(IReadOnlyList<TenantGlance> tenants, TimeZoneInfo zone, DateTimeOffset now, string? reloadProblem = null)
    {
        var parts = new List<string>();
        IEnumerable<TenantGlance> busy = tenants
            .Where(t => t.Running is not null || t.Waiting > 0 || t.Primary == PrimaryStatus.Down)
            .OrderByDescending(t => t.Running is not null)
            .ThenByDescending(t => t.Waiting)
            .ThenBy(t => t.TenantId, StringComparer.Ordinal)
            .ToList();
        foreach (TenantGlance t in busy.Take(MaxTenants))
        {
            parts.Add(Describe(t, zone, now));
        }
        int rest = busy.Count() - MaxTenants;
        if (rest > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{rest} more tenant(s) with mail waiting"));
        }
        var text = new StringBuilder();
        if (parts.Count == 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"nothing waiting; watching {tenants.Count} tenant(s)");
        }
        else
        {
            text.AppendJoin("; ", parts);
        }
        if (reloadProblem is not null)
        {
            text.Append(" — ").Append(reloadProblem);
        }
        return text.ToString();
    }

    private static string Describe(TenantGlance t, TimeZoneInfo zone, DateTimeOffset now)
    {
        if (t.Running is { } run)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"handing over to {t.PrimaryHost}: {run.Done}/{run.Total} ({run.Rate(now):0.#} msg/s)");
        }
        string waiting = t.Waiting == 1 ? "1 message waiting" : string.Create(CultureInfo.InvariantCulture, $"{t.Waiting} messages waiting");
        string primary = t.Primary switch
        {
            PrimaryStatus.Down when t.Since is { } since => "primary down since " + Clock(since, zone, now),
            PrimaryStatus.Down => "primary down",
            PrimaryStatus.Up => "primary up",
            _ => "primary not probed yet",
        };
        return t.Waiting == 0 ? $"{t.PrimaryHost}: {primary}" : $"{waiting} for {t.PrimaryHost}, {primary}";
    }

    /// <summary>"10:42" today, "Mar 3 10:42" on another day, in the server's time zone (as journalctl shows).</summary>
    public static string Clock(DateTimeOffset at, TimeZoneInfo zone, DateTimeOffset now)
    {
        DateTimeOffset local = TimeZoneInfo.ConvertTime(at, zone);
        DateTimeOffset today = TimeZoneInfo.ConvertTime(now, zone);
        return local.Date == today.Date
            ? local.ToString("HH:mm", CultureInfo.InvariantCulture)
            : local.ToString("MMM d HH:mm", CultureInfo.InvariantCulture);
    }

    /// <summary>A glance at every tenant of the running controller.</summary>
    public static IReadOnlyList<TenantGlance> Glance(Supervisor supervisor) => supervisor.Tenants
        .Select(t => new TenantGlance(
            t.Tenant.Id,
            t.Tenant.Primary.Hosts.Count > 0 ? t.Tenant.Primary.Hosts[0].Host : t.Tenant.Id,
            t.State.Status,
            t.State.Since,
            supervisor.Index.Totals(t.Tenant.Id).Count,
            t.Current))
        .ToList();
}
