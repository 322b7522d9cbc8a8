using System.Text.Json;
using System.Text.Json.Serialization;
using Respaldo.Border;
using Respaldo.HandOver;
using Respaldo.Journaling;
using Respaldo.Status;
using Respaldo.Events;

namespace Respaldo.Daemon.Web.Api;

// The JSON the status API (/api/v1, StatusApi) answers with: one record per object, their
// properties in the order the fields appear on the wire. Names are camelCased by the context
// below (Tenant → "tenant", LatencyMs → "latencyMs"); dictionary keys are written as they are.
// A renamed property renames a field of a published API: Api/StatusApiContractTests pins them.

/// <summary>GET /api/v1/tenants: a tenant the caller may see.</summary>
internal sealed record ApiTenant(string Id, string Name);

/// <summary>GET /api/v1/tenants/T/status: the dashboard's overview of one tenant.</summary>
internal sealed record ApiStatus(
    string Tenant,
    string Name,
    ApiPrimary Primary,
    ApiWaiting Waiting,
    ApiReceived Received,
    ApiHandedOver HandedOver,
    ApiHeld Held,
    ApiStorage Storage,
    ApiHandOverState HandOver,
    ApiBorder Border,
    ApiRecipients Recipients)
{
    public static ApiStatus From(TenantStatus s, DateTimeOffset now) => new(
        s.TenantId,
        s.Name,
        new ApiPrimary(
            s.Primary.ToString().ToLowerInvariant(),
            s.PrimarySince,
            s.LastProbe is { } p ? new ApiLastProbe(p.At, p.Host, p.Up, p.Reply, Math.Round(p.LatencyMs, 1)) : null),
        new ApiWaiting(s.Waiting, s.WaitingBytes),
        new ApiReceived(s.ReceivedToday, s.ReceivedThisOutage),
        new ApiHandedOver(s.HandedOverToday, s.HandedOverTotal),
        new ApiHeld(s.HeldCount, s.HeldBytes, [.. s.Held.Select(ApiHold.From)]),
        new ApiStorage(s.Storage.Used, s.Storage.Limit, Math.Round(s.Storage.Fraction * 100, 2), s.Storage.DiskFree, s.Storage.DiskTotal),
        new ApiHandOverState(s.Current is not null, ApiProgress.From(s.Current, now), ApiProgress.From(s.Last, now)),
        new ApiBorder(ApiBorderPeriod.From(s.Border.Today), ApiBorderPeriod.From(s.Border.ThisOutage)),
        new ApiRecipients([.. s.CatchAll.Select(c => new ApiCatchAll(c.Domain, c.CheckedAt, c.Probe, c.Reply))]));
}

/// <summary>State is "unknown", "up" or "down".</summary>
internal sealed record ApiPrimary(string State, DateTimeOffset? Since, ApiLastProbe? LastProbe);

internal sealed record ApiLastProbe(DateTimeOffset At, string Host, bool Up, string Reply, double LatencyMs);

internal sealed record ApiWaiting(int Messages, long Bytes);

internal sealed record ApiReceived(int Today, int ThisOutage);

internal sealed record ApiHandedOver(int Today, int Total);

internal sealed record ApiHeld(int Messages, long Bytes, IReadOnlyList<ApiHold> List);

/// <summary>A held message (in the status and in GET /api/v1/tenants/T/held).</summary>
internal sealed record ApiHold(long Id, DateTimeOffset At, string Mailbox, string Message, long Size, string? Sender, string Reason, int? Code)
{
    public static ApiHold From(HoldRow h) => new(h.Id, h.At, h.Mailbox, h.Message, h.Size, h.Sender, h.Reason, h.Code);
}

/// <summary>Percent of the allocation used, two decimals.</summary>
internal sealed record ApiStorage(long Used, long Limit, double Percent, long DiskFree, long DiskTotal);

internal sealed record ApiHandOverState(bool Running, ApiProgress? Current, ApiProgress? Last);

/// <summary>GET /api/v1/tenants/T/progress: shown is the current run, else the last.</summary>
internal sealed record ApiProgressState(bool Running, ApiProgress? Current, ApiProgress? Last, ApiProgress? Shown);

/// <summary>One hand-over run; rate in messages per second, one decimal.</summary>
internal sealed record ApiProgress(
    string Host, int Total, int Done, int Delivered, int Deferred, int Held, long Bytes, DateTimeOffset Started, DateTimeOffset? Finished, double Rate, string? StopReason)
{
    public static ApiProgress? From(HandOverProgress? p, DateTimeOffset now) => p is null ? null
        : new(p.Host, p.Total, p.Done, p.Delivered, p.Deferred, p.Held, p.Bytes, p.Started, p.Finished, Math.Round(p.Rate(now), 1), p.StopReason);
}

internal sealed record ApiBorder(ApiBorderPeriod Today, ApiBorderPeriod ThisOutage);

/// <summary>{ refused: { reason: n, ... }, deferred: { reason: n, ... } }: every reason present, zeros included.</summary>
internal sealed record ApiBorderPeriod(IReadOnlyDictionary<string, long> Refused, IReadOnlyDictionary<string, long> Deferred)
{
    public static ApiBorderPeriod From(IReadOnlyList<BorderCount> counts) => new(
        RefusalReasons.All.ToDictionary(r => r.Label(), r => counts.Where(c => c.Permanent && c.Reason == r.Label()).Sum(c => c.Count)),
        RefusalReasons.All.ToDictionary(r => r.Label(), r => counts.Where(c => !c.Permanent && c.Reason == r.Label()).Sum(c => c.Count)));
}

internal sealed record ApiRecipients(IReadOnlyList<ApiCatchAll> CatchAll);

internal sealed record ApiCatchAll(string Domain, DateTimeOffset CheckedAt, string Probe, string Reply);

/// <summary>GET /api/v1/tenants/T/mailboxes.</summary>
internal sealed record ApiMailbox(string Address, int Messages, long Bytes, long? Quota)
{
    public static ApiMailbox From(MailboxStatus m) => new(m.Address, m.Count, m.Bytes, m.Quota);
}

/// <summary>GET /api/v1/tenants/T/probes; latencyMs with one decimal.</summary>
internal sealed record ApiProbe(long Id, DateTimeOffset At, string Host, bool Up, string Stage, int? Code, string Reply, double LatencyMs, bool Tls)
{
    public static ApiProbe From(ProbeRow p) => new(p.Id, p.At, p.Host, p.Up, p.Stage, p.Code, p.Reply, Math.Round(p.LatencyMs, 1), p.Tls);
}

/// <summary>GET /api/v1/tenants/T/handovers.</summary>
internal sealed record ApiHandOver(
    long Id, DateTimeOffset At, string Mailbox, string Message, long Size, string? Sender, string? Recipient, string Host, string Outcome, int? Code, string Reply, int Attempt)
{
    public static ApiHandOver From(HandOverRow h) => new(h.Id, h.At, h.Mailbox, h.Message, h.Size, h.Sender, h.Recipient, h.Host, h.Outcome, h.Code, h.Reply, h.Attempt);
}

/// <summary>GET /api/v1/tenants/T/alerts: each channel's state and attempts.</summary>
internal sealed record ApiAlert(long Id, DateTimeOffset At, string Kind, string Subject, string Email, int EmailAttempts, string Webhook, int WebhookAttempts)
{
    public static ApiAlert From(AlertRow a) => new(a.Id, a.At, a.Kind, a.Subject, a.EmailState, a.EmailAttempts, a.WebhookState, a.WebhookAttempts);
}

/// <summary>202 of POST /api/v1/tenants/T/handover-now.</summary>
internal sealed record ApiHandOverRequested(DateTimeOffset Requested);

/// <summary>The body of a 404.</summary>
internal sealed record ApiError(string Error);

/// <summary>
/// Source-generated serialization of the contract: the web defaults ASP.NET Core's own JSON
/// results use (camelCase names, nulls written, dictionary keys unchanged), so the wire is what
/// the anonymous objects wrote before.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(IReadOnlyList<ApiTenant>))]
[JsonSerializable(typeof(ApiStatus))]
[JsonSerializable(typeof(IReadOnlyList<ApiMailbox>))]
[JsonSerializable(typeof(IReadOnlyList<ApiProbe>))]
[JsonSerializable(typeof(IReadOnlyList<ApiHandOver>))]
[JsonSerializable(typeof(IReadOnlyList<ApiHold>))]
[JsonSerializable(typeof(IReadOnlyList<ApiAlert>))]
[JsonSerializable(typeof(ApiProgressState))]
[JsonSerializable(typeof(ApiHandOverRequested))]
[JsonSerializable(typeof(ApiError))]
internal sealed partial class StatusApiJson : JsonSerializerContext;
