using System.Security.Claims;
using Respaldo.Configuration;
using Respaldo.Daemon.Web.Dashboard;
using Respaldo.Border;
using Respaldo.HandOver;
using Respaldo.Journaling;
using Respaldo.Status;
using Respaldo.Supervision;

namespace Respaldo.Daemon.Web.Api;

/// <summary>
/// The JSON status API: the dashboard's data for scripts, under /api/v1. Reads accept the
/// dashboard's session cookie (the pages' live updates) or an API token; the one write
/// ("hand over now") accepts a token only, so no browser session can be ridden to it (no
/// anti-forgery needed without ambient credentials). Same tenant checks as the pages: a
/// tenant that does not exist or is not yours is 404.
/// </summary>
internal static class StatusApi
{
    public static IEndpointRouteBuilder MapStatusApi(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder api = app.MapGroup("/api/v1").RequireAuthorization(DashboardAccess.ReadPolicy);
        api.MapGet("/tenants", (ClaimsPrincipal user, RespaldoRuntime runtime) =>
            Results.Ok(DashboardAccess.Visible(user, runtime.Settings).Select(t => new { id = t.Id, name = t.Name })));
        api.MapGet("/tenants/{tenant}/status", (string tenant, ClaimsPrincipal user, StatusReader status) =>
            WithTenant(user, status, tenant, t => Results.Ok(StatusJson(status.Read(t.Id)!, status.Now))));
        api.MapGet("/tenants/{tenant}/mailboxes", (string tenant, ClaimsPrincipal user, StatusReader status) =>
            WithTenant(user, status, tenant, t => Results.Ok(status.Mailboxes(t.Id).Select(m => new { address = m.Address, messages = m.Count, bytes = m.Bytes, quota = m.Quota }))));
        api.MapGet("/tenants/{tenant}/probes", (string tenant, int? limit, string? result, ClaimsPrincipal user, StatusReader status) =>
            WithTenant(user, status, tenant, t => Results.Ok(status.Probes(t.Id, result switch { "up" => true, "down" => false, _ => null }, null, Math.Clamp(limit ?? 100, 1, 1000))
                .Select(p => new { id = p.Id, at = p.At, host = p.Host, up = p.Up, stage = p.Stage, code = p.Code, reply = p.Reply, latencyMs = Math.Round(p.LatencyMs, 1), tls = p.Tls }))));
        api.MapGet("/tenants/{tenant}/handovers", (string tenant, int? limit, string? q, string? outcome, ClaimsPrincipal user, StatusReader status) =>
            WithTenant(user, status, tenant, t => Results.Ok(status.HandOvers(t.Id, q, outcome, Math.Clamp(limit ?? 100, 1, 1000))
                .Select(h => new { id = h.Id, at = h.At, mailbox = h.Mailbox, message = h.Message, size = h.Size, sender = h.Sender, recipient = h.Recipient, host = h.Host, outcome = h.Outcome, code = h.Code, reply = h.Reply, attempt = h.Attempt }))));
        api.MapGet("/tenants/{tenant}/held", (string tenant, ClaimsPrincipal user, StatusReader status) =>
            WithTenant(user, status, tenant, t => Results.Ok(status.Holds(t.Id, "held").Select(HoldJson))));
        api.MapGet("/tenants/{tenant}/alerts", (string tenant, int? limit, ClaimsPrincipal user, StatusReader status) =>
            WithTenant(user, status, tenant, t => Results.Ok(status.Alerts(t.Id, Math.Clamp(limit ?? 50, 1, 1000))
                .Select(a => new { id = a.Id, at = a.At, kind = a.Kind, subject = a.Subject, email = a.EmailState, emailAttempts = a.EmailAttempts, webhook = a.WebhookState, webhookAttempts = a.WebhookAttempts }))));
        api.MapGet("/tenants/{tenant}/progress", (string tenant, ClaimsPrincipal user, StatusReader status) =>
            WithTenant(user, status, tenant, t =>
            {
                TenantSupervisor? s = status.Runtime.Supervisor.Find(t.Id);
                return Results.Ok(new { running = s?.Current is not null, current = ProgressJson(s?.Current, status.Now), last = ProgressJson(s?.Last, status.Now), shown = ProgressJson(s?.Current ?? s?.Last, status.Now) });
            }));
        // Note: writes in a group of their own: policies of a group and an endpoint are combined
        // (their schemes too), so under the read group a session cookie would be accepted here.
        RouteGroupBuilder writes = app.MapGroup("/api/v1").RequireAuthorization(DashboardAccess.WritePolicy);
        writes.MapPost("/tenants/{tenant}/handover-now", (string tenant, ClaimsPrincipal user, StatusReader status) =>
            user.Identity?.AuthenticationType != DashboardAccess.TokenScheme
                ? Results.StatusCode(StatusCodes.Status403Forbidden)
                : WithTenant(user, status, tenant, t =>
                {
                    status.Runtime.Supervisor.Find(t.Id)?.HandOverNow();
                    return Results.Accepted($"/api/v1/tenants/{t.Id}/progress", new { requested = status.Now });
                }));
        return app;
    }

    private static IResult WithTenant(ClaimsPrincipal user, StatusReader status, string tenantId, Func<Tenant, IResult> then) =>
        DashboardAccess.Resolve(user, status.Runtime.Settings, tenantId) is { } t && status.Runtime.Supervisor.Find(t.Id) is not null
            ? then(t)
            : Results.NotFound(new { error = "no such tenant" });

    public static object StatusJson(TenantStatus s, DateTimeOffset now) => new
    {
        tenant = s.TenantId,
        name = s.Name,
        primary = new
        {
            state = s.Primary.ToString().ToLowerInvariant(),
            since = s.PrimarySince,
            lastProbe = s.LastProbe is { } p ? new { at = p.At, host = p.Host, up = p.Up, reply = p.Reply, latencyMs = Math.Round(p.LatencyMs, 1) } : null,
        },
        waiting = new { messages = s.Waiting, bytes = s.WaitingBytes },
        received = new { today = s.ReceivedToday, thisOutage = s.ReceivedThisOutage },
        handedOver = new { today = s.HandedOverToday, total = s.HandedOverTotal },
        held = new { messages = s.HeldCount, bytes = s.HeldBytes, list = s.Held.Select(HoldJson) },
        storage = new { used = s.Storage.Used, limit = s.Storage.Limit, percent = Math.Round(s.Storage.Fraction * 100, 2), diskFree = s.Storage.DiskFree, diskTotal = s.Storage.DiskTotal },
        handOver = new { running = s.Current is not null, current = ProgressJson(s.Current, now), last = ProgressJson(s.Last, now) },
        border = new { today = BorderJson(s.Border.Today), thisOutage = BorderJson(s.Border.ThisOutage) },
        recipients = new { catchAll = s.CatchAll.Select(c => new { domain = c.Domain, checkedAt = c.CheckedAt, probe = c.Probe, reply = c.Reply }) },
    };

    /// <summary>{ refused: { reason: n, ... }, deferred: { reason: n, ... } }: every reason present, zeros included.</summary>
    private static object BorderJson(IReadOnlyList<BorderCount> counts) => new
    {
        refused = Respaldo.Border.RefusalReasons.All.ToDictionary(r => r.Label(), r => counts.Where(c => c.Permanent && c.Reason == r.Label()).Sum(c => c.Count)),
        deferred = Respaldo.Border.RefusalReasons.All.ToDictionary(r => r.Label(), r => counts.Where(c => !c.Permanent && c.Reason == r.Label()).Sum(c => c.Count)),
    };

    private static object HoldJson(HoldRow h) => new { id = h.Id, at = h.At, mailbox = h.Mailbox, message = h.Message, size = h.Size, sender = h.Sender, reason = h.Reason, code = h.Code };

    public static object? ProgressJson(HandOverProgress? p, DateTimeOffset now) => p is null ? null : new
    {
        host = p.Host,
        total = p.Total,
        done = p.Done,
        delivered = p.Delivered,
        deferred = p.Deferred,
        held = p.Held,
        bytes = p.Bytes,
        started = p.Started,
        finished = p.Finished,
        rate = Math.Round(p.Rate(now), 1),
        stopReason = p.StopReason,
    };
}
