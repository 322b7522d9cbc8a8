using Microsoft.AspNetCore.Mvc;
using Respaldo.HandOver;
using Respaldo.Status;

namespace Respaldo.Daemon.Web.Dashboard.Pages;

/// <summary>Every hand-over attempt, searchable; held messages with "retry" and "bounce to sender".</summary>
public sealed partial class HandOversModel(StatusReader status, HeldMessages heldMessages, ILogger<HandOversModel> logger) : TenantPageModel(status)
{
    public const int PageSize = 100;
    public static readonly string[] Outcomes = ["delivered", "deferred", "held"];

    public IReadOnlyList<HandOverRow> Rows { get; private set; } = [];
    public IReadOnlyList<HoldRow> Held { get; private set; } = [];
    public string? Query { get; private set; }
    public string? Outcome { get; private set; }
    public string? Notice { get; private set; }
    public bool NoticeIsError { get; private set; }

    public void OnGet(string? q, string? outcome, long? before) => Load(q, outcome, before);

    private void Load(string? q, string? outcome, long? before)
    {
        Query = string.IsNullOrWhiteSpace(q) ? null : q.Trim();
        Outcome = Outcomes.Contains(outcome) ? outcome : null;
        Rows = Status.HandOvers(Tenant.Id, Query, Outcome, PageSize, before);
        Held = Status.Holds(Tenant.Id, "held");
    }

    public async Task<IActionResult> OnPostRetryAsync(long id)
    {
        if (Find(id) is not { } held)
        {
            return NotFound();
        }
        try
        {
            // Note: the same path as respaldoctl release: one decision at a time, re-checked.
            await heldMessages.ReleaseAsync(held.Id, HttpContext.RequestAborted);
            LogAction(logger, Tenant.Id, held.Mailbox, held.Message, "retry", User.Identity?.Name ?? "?");
            Notice = "OK";
        }
        catch (Exception e) when (e is IOException or NotHeldException)
        {
            Notice = e.Message;
            NoticeIsError = true;
        }
        Load(null, null, null);
        return Page();
    }

    public async Task<IActionResult> OnPostBounceAsync(long id, CancellationToken cancellationToken)
    {
        if (Find(id) is not { } held)
        {
            return NotFound();
        }
        try
        {
            await heldMessages.BounceAsync(held.Id, cancellationToken);
            LogAction(logger, Tenant.Id, held.Mailbox, held.Message, "bounce", User.Identity?.Name ?? "?");
            Notice = "OK";
        }
        catch (Exception e) when (e is IOException or NotHeldException or Respaldo.Bounces.BounceNotSentException)
        {
            Notice = e.Message;
            NoticeIsError = true;
        }
        Load(null, null, null);
        return Page();
    }

    /// <summary>A held message of this tenant (the id alone is never trusted: the tenant must match).</summary>
    private HoldRow? Find(long id) => Status.Hold(Tenant.Id, id) is { State: "held" } h ? h : null;

    [LoggerMessage(EventId = 1604, Level = LogLevel.Information, Message = "tenant {Tenant} mailbox {Mailbox} message {Message}: held message {Action} by {User}")]
    private static partial void LogAction(ILogger logger, string tenant, string mailbox, string message, string action, string user);
}
