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

    /// <summary>The message's header section (parsed, with no body); null when it is not here.</summary>
    public MimeMessage? Message => Opened?.Head;

    public OpenedMessage? Opened { get; private set; }

    public IReadOnlyList<MailKit.BodyPartBasic> Attachments { get; private set; } = [];

    public bool ShowHeaders { get; private set; }

    /// <summary>SPF, DKIM and DMARC as the backup's border found them (null: not checked).</summary>
    public Respaldo.Webmail.AuthenticationBadge? Badge { get; private set; }

    public bool RemoteImages { get; private set; }

    /// <summary>Remote images the sanitizer left out (the page offers to show them).</summary>
    public int BlockedImages { get; private set; }

    /// <summary>The HTML is shown in the frame (it exists and is small enough to show).</summary>
    public bool HasHtml { get; private set; }

    /// <summary>The plain text shown on the page when there is no HTML to show.</summary>
    public string? Text { get; private set; }

    /// <summary>The text or HTML is larger than <see cref="MailboxView.MaxShownText"/>: the page says so and offers it as a download.</summary>
    public long? TooLargeSize { get; private set; }

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
        Respaldo.Webmail.SanitizedHtml? html = null;
        (Opened, html, Text) = await Mailbox.UseAsync<(OpenedMessage?, Respaldo.Webmail.SanitizedHtml?, string?)>(async inbox =>
        {
            OpenedMessage? opened = await MailboxView.OpenAsync(inbox, v, u, markSeen: true, cancellationToken);
            if (opened is null)
            {
                return (null, null, null);
            }
            // Note: sanitized here once; the frame's request takes the result (WebmailSession.TakeRendered).
            if (opened.Html is { } h && !MailboxView.TooLarge(h))
            {
                return (opened, await MailboxView.RenderAsync(inbox, opened, RemoteImages, cancellationToken), null);
            }
            if (opened.Text is { } t && !MailboxView.TooLarge(t))
            {
                return (opened, null, await MailboxView.TextAsync(inbox, opened, t, cancellationToken));
            }
            return (opened, null, null);
        }, cancellationToken);
        if (Opened is null)
        {
            // Note: the same answer for "handed over" and "never existed in this mailbox", so
            // another mailbox's ids reveal nothing.
            Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        Attachments = MailboxView.Attachments(Opened.Summary);
        Badge = Respaldo.Webmail.AuthenticationBadge.From(Opened.Head.Headers, Runtime.Settings.Hostname);
        if (html is not null)
        {
            HasHtml = true;
            BlockedImages = RemoteImages ? 0 : html.BlockedImages;
            Mailbox.KeepRendered(new RenderedBody(v, u, RemoteImages, Respaldo.Webmail.MessageHtml.Document(html)));
        }
        else if (Text is null && (Opened.Html ?? Opened.Text) is { } large)
        {
            TooLargeSize = MailboxView.DecodedSize(large);
        }
    }

    public static string Addresses(InternetAddressList list) => string.Join(", ", list.Mailboxes.Select(m => string.IsNullOrWhiteSpace(m.Name) ? m.Address : $"{m.Name} <{m.Address}>"));
}
