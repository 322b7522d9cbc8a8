using Respaldo.Journaling;
using Respaldo.Status;
using Respaldo.Supervision;

namespace Respaldo.Daemon.Web.Webmail.Pages;

/// <summary>The message list: newest first, paged, searchable by sender or subject; below it, where the handed-over messages went.</summary>
public sealed class IndexModel(RespaldoRuntime runtime, WebmailSessions sessions, StatusReader status) : WebmailPageModel(runtime, sessions)
{
    public MessageList List { get; private set; } = null!;

    /// <summary>This mailbox's latest messages handed over to the primary (the journal), newest first.</summary>
    public IReadOnlyList<HandOverRow> HandedOver { get; private set; } = [];

    public bool Sent { get; private set; }

    /// <remarks>Note: the page number is "p": Razor Pages keeps the route value "page" for the page's own name.</remarks>
    public async Task OnGetAsync(int? p, string? q, string? sent, CancellationToken cancellationToken)
    {
        Sent = sent == "1";
        List = await Mailbox.UseAsync(inbox => MailboxView.ListAsync(inbox, p, q, cancellationToken), cancellationToken);
        HandedOver = status.HandOvers(Tenant.Id, Mailbox.Address, "delivered", 50)
            .Where(h => string.Equals(h.Mailbox, Mailbox.Address, StringComparison.Ordinal))
            .Take(10)
            .ToList();
    }

    public string PageLink(int page) =>
        WebmailAccess.BasePath + "?p=" + page.ToString(System.Globalization.CultureInfo.InvariantCulture) +
        (List.Query is { } q ? "&q=" + Uri.EscapeDataString(q) : "");
}
