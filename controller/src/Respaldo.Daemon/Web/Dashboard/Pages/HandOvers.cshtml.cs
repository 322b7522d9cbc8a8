using Microsoft.AspNetCore.Mvc;
using Respaldo.Bounces;
using Respaldo.HandOver;
using Respaldo.Journaling;
using Respaldo.Status;
using Respaldo.Holds;

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

    /// <summary>What the border found about each held message's sender (by hold id): who may bounce it.</summary>
    public IReadOnlyDictionary<long, SenderVerdict> Senders { get; private set; } = new Dictionary<long, SenderVerdict>();

    /// <summary>A provider admin may bounce to a sender the border did not find aligned (warned); a tenant's user may not.</summary>
    public bool IsAdmin => DashboardAccess.IsAdmin(User);

    public Task OnGetAsync(string? q, string? outcome, long? before) => LoadAsync(q, outcome, before);

    private async Task LoadAsync(string? q, string? outcome, long? before)
    {
        Query = string.IsNullOrWhiteSpace(q) ? null : q.Trim();
        Outcome = Outcomes.Contains(outcome) ? outcome : null;
        Rows = Status.HandOvers(Tenant.Id, Query, Outcome, PageSize, before);
        Held = Status.Holds(Tenant.Id, "held");
        var senders = new Dictionary<long, SenderVerdict>();
        foreach (HoldRow h in Held)
        {
            try
            {
                senders[h.Id] = await heldMessages.SenderVerdictAsync(h.Path, h.Sender, HttpContext.RequestAborted);
            }
            catch (IOException)
            {
                // Note: the file moved meanwhile (released, bounced elsewhere): no badge, the bounce re-checks.
                senders[h.Id] = SenderVerdict.NotChecked;
            }
        }
        Senders = senders;
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
        await LoadAsync(null, null, null);
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
            BounceOutcome outcome = await heldMessages.BounceAsync(held.Id, IsAdmin, cancellationToken);
            LogAction(logger, Tenant.Id, held.Mailbox, held.Message, "bounce", User.Identity?.Name ?? "?");
            if (outcome.Verdict != SenderVerdict.Aligned)
            {
                LogUnverified(logger, Tenant.Id, held.Mailbox, held.Message, held.Sender ?? "", User.Identity?.Name ?? "?");
            }
            Notice = outcome.Verdict == SenderVerdict.Aligned ? "OK" : "Bounced, but the sender was not verified: the notice may have reached someone who never wrote.";
        }
        catch (BounceRefusedException)
        {
            LogBounceRefused(logger, Tenant.Id, held.Mailbox, held.Message, held.Sender ?? "", User.Identity?.Name ?? "?");
            Notice = "Not bounced: the border did not verify this sender (SPF or DKIM), so the notice could reach an innocent third party. Ask your provider if it must be returned.";
            NoticeIsError = true;
            Response.StatusCode = StatusCodes.Status403Forbidden;
        }
        catch (Exception e) when (e is IOException or NotHeldException or BounceNotSentException)
        {
            Notice = e.Message;
            NoticeIsError = true;
        }
        await LoadAsync(null, null, null);
        return Page();
    }

    /// <summary>A held message of this tenant (the id alone is never trusted: the tenant must match).</summary>
    private HoldRow? Find(long id) => Status.Hold(Tenant.Id, id) is { State: "held" } h ? h : null;

    [LoggerMessage(EventId = 1604, Level = LogLevel.Information, Message = "tenant {Tenant} mailbox {Mailbox} message {Message}: held message {Action} by {User}")]
    private static partial void LogAction(ILogger logger, string tenant, string mailbox, string message, string action, string user);

    [LoggerMessage(EventId = 1607, Level = LogLevel.Warning, Message = "tenant {Tenant} mailbox {Mailbox} message {Message}: bounce to unverified sender {Sender} refused to {User} (not an admin)")]
    private static partial void LogBounceRefused(ILogger logger, string tenant, string mailbox, string message, string sender, string user);

    [LoggerMessage(EventId = 1608, Level = LogLevel.Warning, Message = "tenant {Tenant} mailbox {Mailbox} message {Message}: admin {User} bounced to unverified sender {Sender}")]
    private static partial void LogUnverified(ILogger logger, string tenant, string mailbox, string message, string sender, string user);
}
