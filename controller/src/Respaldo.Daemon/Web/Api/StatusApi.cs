using System.Security.Claims;
using Respaldo.Configuration;
using Respaldo.Daemon.Web.Dashboard;
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
        // Note: every body is a record of StatusApiContract written through its source-generated
        // context (StatusApiJson), never an anonymous object: the field names are the contract's.
        StatusApiJson json = StatusApiJson.Default;
        RouteGroupBuilder api = app.MapGroup("/api/v1").RequireAuthorization(DashboardAccess.ReadPolicy);
        api.MapGet("/tenants", (ClaimsPrincipal user, RespaldoRuntime runtime) =>
            Results.Json<IReadOnlyList<ApiTenant>>([.. DashboardAccess.Visible(user, runtime.Settings).Select(t => new ApiTenant(t.Id, t.Name))], json.IReadOnlyListApiTenant));
        api.MapGet("/tenants/{tenant}/status", (string tenant, ClaimsPrincipal user, StatusReader status) =>
            WithTenant(user, status, tenant, t => Results.Json(ApiStatus.From(status.Read(t.Id)!, status.Now), json.ApiStatus)));
        api.MapGet("/tenants/{tenant}/mailboxes", (string tenant, ClaimsPrincipal user, StatusReader status) =>
            WithTenant(user, status, tenant, t => Results.Json<IReadOnlyList<ApiMailbox>>([.. status.Mailboxes(t.Id).Select(ApiMailbox.From)], json.IReadOnlyListApiMailbox)));
        api.MapGet("/tenants/{tenant}/probes", (string tenant, int? limit, string? result, ClaimsPrincipal user, StatusReader status) =>
            WithTenant(user, status, tenant, t => Results.Json<IReadOnlyList<ApiProbe>>(
                [.. status.Probes(t.Id, result switch { "up" => true, "down" => false, _ => null }, null, Math.Clamp(limit ?? 100, 1, 1000)).Select(ApiProbe.From)],
                json.IReadOnlyListApiProbe)));
        api.MapGet("/tenants/{tenant}/handovers", (string tenant, int? limit, string? q, string? outcome, ClaimsPrincipal user, StatusReader status) =>
            WithTenant(user, status, tenant, t => Results.Json<IReadOnlyList<ApiHandOver>>(
                [.. status.HandOvers(t.Id, q, outcome, Math.Clamp(limit ?? 100, 1, 1000)).Select(ApiHandOver.From)],
                json.IReadOnlyListApiHandOver)));
        api.MapGet("/tenants/{tenant}/held", (string tenant, ClaimsPrincipal user, StatusReader status) =>
            WithTenant(user, status, tenant, t => Results.Json<IReadOnlyList<ApiHold>>([.. status.Holds(t.Id, "held").Select(ApiHold.From)], json.IReadOnlyListApiHold)));
        api.MapGet("/tenants/{tenant}/alerts", (string tenant, int? limit, ClaimsPrincipal user, StatusReader status) =>
            WithTenant(user, status, tenant, t => Results.Json<IReadOnlyList<ApiAlert>>([.. status.Alerts(t.Id, Math.Clamp(limit ?? 50, 1, 1000)).Select(ApiAlert.From)], json.IReadOnlyListApiAlert)));
        api.MapGet("/tenants/{tenant}/progress", (string tenant, ClaimsPrincipal user, StatusReader status) =>
            WithTenant(user, status, tenant, t =>
            {
                TenantSupervisor? s = status.Runtime.Supervisor.Find(t.Id);
                return Results.Json(Progress(s, status.Now), json.ApiProgressState);
            }));
        // Note: writes in a group of their own: policies of a group and an endpoint are combined
        // (their schemes too), so under the read group a session cookie would be accepted here.
        RouteGroupBuilder writes = app.MapGroup("/api/v1").RequireAuthorization(DashboardAccess.WritePolicy);
        writes.MapPost("/tenants/{tenant}/handover-now", (string tenant, ClaimsPrincipal user, StatusReader status, HttpResponse response) =>
            user.Identity?.AuthenticationType != DashboardAccess.TokenScheme
                ? Results.StatusCode(StatusCodes.Status403Forbidden)
                : WithTenant(user, status, tenant, t =>
                {
                    status.Runtime.Supervisor.Find(t.Id)?.HandOverNow();
                    // Note: what Results.Accepted(uri, value) did, with the contract's serializer.
                    response.Headers.Location = $"/api/v1/tenants/{t.Id}/progress";
                    return Results.Json(new ApiHandOverRequested(status.Now), json.ApiHandOverRequested, statusCode: StatusCodes.Status202Accepted);
                }));
        return app;
    }

    /// <summary>The body of GET progress: the running hand-over, the last one, and the one to show.</summary>
    public static ApiProgressState Progress(TenantSupervisor? s, DateTimeOffset now) =>
        new(s?.Current is not null, ApiProgress.From(s?.Current, now), ApiProgress.From(s?.Last, now), ApiProgress.From(s?.Current ?? s?.Last, now));

    private static IResult WithTenant(ClaimsPrincipal user, StatusReader status, string tenantId, Func<Tenant, IResult> then) =>
        DashboardAccess.Resolve(user, status.Runtime.Settings, tenantId) is { } t && status.Runtime.Supervisor.Find(t.Id) is not null
            ? then(t)
            : Results.Json(new ApiError("no such tenant"), StatusApiJson.Default.ApiError, statusCode: StatusCodes.Status404NotFound);
}
