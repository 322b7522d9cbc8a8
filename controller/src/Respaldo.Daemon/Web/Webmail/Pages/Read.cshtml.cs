using MimeKit;
using Respaldo.Supervision;

namespace Respaldo.Daemon.Web.Webmail.Pages;

/// <summary>
/// One message: its addresses, its text (plain text on the page, HTML in a sandboxed frame),
/// its attachments and, on request, every header. Opening it sets \Seen in the backup only.
/// </summary>
public sealed class ReadModel(RespaldoRuntime runtime, WebmailSessions sessions) : WebmailPageModel(runtime, sessions)
{
    public uint Validity { get; private set; }

    public uint Uid { get; private set; }

    public MimeMessage? Message { get; private set; }

    public IReadOnlyList<MimeEntity> Attachments { get; private set; } = [];

    public bool ShowHeaders { get; private set; }

    /// <summary>SPF, DKIM and DMARC as the backup's border found them (null: not checked).</summary>
    public Respaldo.Webmail.AuthenticationBadge? Badge { get; private set; }

    public bool RemoteImages { get; private set; }

    /// <summary>Remote images the sanitizer left out (the page offers to show them).</summary>
    public int BlockedImages { get; private set; }

    public bool HasHtml => Message?.HtmlBody is not null;

    public string Base => $"{WebmailAccess.BasePath}/m/{Validity}/{Uid}";

    public async Task OnGetAsync(long validity, long uid, string? headers, string? images, CancellationToken cancellationToken)
    {
        ShowHeaders = headers == "1";
        RemoteImages = images == "1";
        if (!WebmailEndpoints.Ids(validity, uid, out uint v, out uint u))
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        Validity = v;
        Uid = u;
        Message = await Mailbox.UseAsync(inbox => MailboxView.OpenAsync(inbox, v, u, markSeen: true, cancellationToken), cancellationToken);
        if (Message is null)
        {
            // Note: the same answer for "handed over" and "never existed in this mailbox", so
            // another mailbox's ids reveal nothing.
            Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        Attachments = MailboxView.Attachments(Message);
        Badge = Respaldo.Webmail.AuthenticationBadge.From(Message.Headers, Runtime.Settings.Hostname);
        if (Message.HtmlBody is { } html && !RemoteImages)
        {
            BlockedImages = Respaldo.Webmail.MessageHtml.Sanitize(html, allowRemoteImages: false).BlockedImages;
        }
    }

    public static string Addresses(InternetAddressList list) => string.Join(", ", list.Mailboxes.Select(m => string.IsNullOrWhiteSpace(m.Name) ? m.Address : $"{m.Name} <{m.Address}>"));
}
