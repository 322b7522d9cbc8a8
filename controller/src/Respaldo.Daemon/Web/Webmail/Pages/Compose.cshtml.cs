using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.AspNetCore.Mvc;
using MimeKit;
using Respaldo.Supervision;
using Respaldo.Webmail;

namespace Respaldo.Daemon.Web.Webmail.Pages;

/// <summary>
/// New message, reply, reply-all and forward, with attachments; sent through the backup's own
/// Postfix as the logged-in mailbox (<see cref="Outbox"/>). A copy is not kept in the backup:
/// it would be handed over to the primary's inbox as if it had been received.
/// </summary>
[RequestFormLimits(MultipartBodyLengthLimit = MaxUpload)]
[RequestSizeLimit(MaxUpload)]
public sealed partial class ComposeModel(RespaldoRuntime runtime, WebmailSessions sessions, SendLimit sendLimit, ILogger<ComposeModel> logger) : WebmailPageModel(runtime, sessions)
{
    /// <summary>Largest form (text and attachments) the page takes, whatever messageSizeLimit says.</summary>
    public const long MaxUpload = 64L * 1024 * 1024;

    /// <summary>Room for the form's fields and multipart boundaries beside the attachments.</summary>
    private const long FormOverhead = 256 * 1024;

    /// <summary>
    /// The most a form may carry: no more than the submission service accepts (messageSizeLimit,
    /// the same Postfix's message_size_limit), since anything larger would be refused anyway.
    /// </summary>
    public long UploadLimit => Math.Min(MaxUpload, Runtime.Settings.MessageSizeLimit + FormOverhead);

    /// <summary>When the send limit was reached: the time the next message may go.</summary>
    public DateTimeOffset? LimitReachedUntil { get; private set; }

    public override void OnPageHandlerSelected(Microsoft.AspNetCore.Mvc.Filters.PageHandlerSelectedContext context)
    {
        // Note: before model binding reads the form: Kestrel stops a larger upload at this
        // size (413) instead of buffering up to MaxUpload of it.
        if (HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } body)
        {
            body.MaxRequestBodySize = UploadLimit;
        }
        base.OnPageHandlerSelected(context);
    }

    [BindProperty]
    public string? Mode { get; set; }

    [BindProperty(Name = "v")]
    public long Validity { get; set; }

    [BindProperty(Name = "u")]
    public long Uid { get; set; }

    [BindProperty]
    public string? To { get; set; }

    [BindProperty]
    public string? Cc { get; set; }

    [BindProperty]
    public string? Bcc { get; set; }

    [BindProperty]
    public string? Subject { get; set; }

    [BindProperty]
    public string? Body { get; set; }

    public string? Error { get; private set; }

    public bool Forwarding => Mode == "forward" && Original is not null;

    /// <summary>The message replied to or forwarded: its headers and structure only (<see cref="MailboxView.OpenAsync"/>).</summary>
    private OpenedMessage? Opened { get; set; }

    private MimeMessage? Original => Opened?.Head;

    private long OriginalSize => Opened?.Size ?? 0;

    /// <summary>The original's text for the quote, when it is small enough to show.</summary>
    private string OriginalText { get; set; } = "";

    public string? OriginalSubject => Original?.Subject;

    public async Task<IActionResult> OnGetAsync(string? mode, long v, long u, CancellationToken cancellationToken)
    {
        Mode = mode is "reply" or "replyall" or "forward" ? mode : null;
        Validity = v;
        Uid = u;
        if (Mode is null)
        {
            return Page();
        }
        if (!await LoadOriginalAsync(cancellationToken))
        {
            return NotFound();
        }
        MimeMessage o = Original!;
        if (Mode == "forward")
        {
            Subject = Replies.ForwardSubject(o.Subject);
            return Page();
        }
        Subject = Replies.ReplySubject(o.Subject);
        if (Mode == "reply")
        {
            To = Join(OutgoingAddresses.ReplyTarget(o));
        }
        else
        {
            (List<MailboxAddress> to, List<MailboxAddress> cc) = OutgoingAddresses.ReplyAll(o, Mailbox.Address);
            To = Join(to);
            Cc = Join(cc);
        }
        Body = "\n\n" + Quote(o, OriginalText);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(List<IFormFile> files, CancellationToken cancellationToken)
    {
        Mode = Mode is "reply" or "replyall" or "forward" ? Mode : null;
        if (Mode is not null && !await LoadOriginalAsync(cancellationToken))
        {
            return NotFound();
        }
        AddressProblem problem = OutgoingAddresses.TryParse(To, out List<MailboxAddress> to);
        List<MailboxAddress> cc = [], bcc = [];
        if (problem == AddressProblem.None)
        {
            problem = OutgoingAddresses.TryParse(Cc, out cc);
        }
        if (problem == AddressProblem.None)
        {
            problem = OutgoingAddresses.TryParse(Bcc, out bcc);
        }
        if (problem == AddressProblem.None)
        {
            problem = OutgoingAddresses.CheckRecipients(to, cc, bcc);
        }
        if (problem != AddressProblem.None)
        {
            Error = problem switch
            {
                AddressProblem.NoRecipient => "Write at least one recipient.",
                AddressProblem.TooMany => "Too many recipients.",
                _ => "One of the addresses is not valid.",
            };
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
        // Note: base64 takes 4 bytes for 3; a message that cannot fit is refused whole, before
        // anything is sent or counted.
        long estimate = (Body?.Length ?? 0) + files.Sum(f => f.Length) * 4 / 3 + (Forwarding ? OriginalSize : 0);
        if (estimate > Runtime.Settings.MessageSizeLimit)
        {
            Error = "The message is too large to send: make the attachments smaller.";
            Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return Page();
        }
        int perHour = Runtime.Settings.Webmail.SendLimitPerHour;
        if (!sendLimit.TryTake(Mailbox.Address, perHour, out DateTimeOffset retryAt))
        {
            // Note: refused before the message is built or any recipient is given to Postfix:
            // nothing is half-sent.
            LogLimited(logger, Tenant.Id, Mailbox.Address, perHour);
            Error = "You have reached the number of messages this webmail sends per hour. Nothing was sent.";
            LimitReachedUntil = retryAt;
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            return Page();
        }
        MimeMessage message;
        try
        {
            message = await BuildAsync(to, cc, bcc, files, cancellationToken);
        }
        catch
        {
            sendLimit.GiveBack(Mailbox.Address);
            throw;
        }
        try
        {
            await Mailbox.SendAsync(message, Runtime.Settings.Listen.Submission, cancellationToken);
        }
        catch (SmtpCommandException e)
        {
            // Note: the submission service refused it whole (MailKit sends nothing after a refused RCPT or DATA).
            sendLimit.GiveBack(Mailbox.Address);
            LogRefused(logger, Tenant.Id, Mailbox.Address, (int)e.StatusCode, e.Message);
            Error = "The mail server refused the message: " + e.Message;
            Response.StatusCode = StatusCodes.Status502BadGateway;
            return Page();
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or SmtpProtocolException or AuthenticationException)
        {
            LogFailed(logger, Tenant.Id, Mailbox.Address, e.GetBaseException().Message);
            Error = "The message could not be sent now. Try again in a minute.";
            Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return Page();
        }
        LogSent(logger, Tenant.Id, Mailbox.Address, message.MessageId ?? "", to.Count + cc.Count + bcc.Count);
        return LocalRedirect(WebmailAccess.BasePath + "?sent=1");
    }

    private async Task<bool> LoadOriginalAsync(CancellationToken cancellationToken)
    {
        if (!WebmailEndpoints.Ids(Validity, Uid, out uint v, out uint u))
        {
            return false;
        }
        (Opened, OriginalText) = await Mailbox.UseAsync<(OpenedMessage?, string)>(async inbox =>
        {
            OpenedMessage? opened = await MailboxView.OpenAsync(inbox, v, u, markSeen: false, cancellationToken);
            // Note: the quote comes from a text or HTML part small enough to show; a larger one is not quoted.
            string text = opened?.Text is { } t && !MailboxView.TooLarge(t) ? await MailboxView.TextAsync(inbox, opened, t, cancellationToken)
                : opened?.Html is { } h && !MailboxView.TooLarge(h) ? HtmlToText(await MailboxView.TextAsync(inbox, opened, h, cancellationToken))
                : "";
            return (opened, text);
        }, cancellationToken);
        return Opened is not null;
    }

    private async Task<MimeMessage> BuildAsync(List<MailboxAddress> to, List<MailboxAddress> cc, List<MailboxAddress> bcc, List<IFormFile> files, CancellationToken cancellationToken)
    {
        // Note: the sender is the logged-in mailbox, never a form field; Postfix checks the same
        // (smtpd_sender_login_maps + reject_sender_login_mismatch).
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("", Mailbox.Address));
        message.To.AddRange(to);
        message.Cc.AddRange(cc);
        message.Bcc.AddRange(bcc);
        message.Subject = (Subject ?? "").Trim();
        message.Date = DateTimeOffset.Now;
        message.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId(Mailbox.Address[(Mailbox.Address.LastIndexOf('@') + 1)..]);
        if (Original is { } o && Mode is "reply" or "replyall")
        {
            // Note: RFC 5322 §3.6.4 (Replies.ThreadUnder).
            ReplyThread thread = Replies.ThreadUnder(o.MessageId, o.References, o.InReplyTo);
            if (thread.InReplyTo is { } parent)
            {
                message.InReplyTo = parent;
                foreach (string r in thread.References)
                {
                    message.References.Add(r);
                }
            }
        }
        var builder = new BodyBuilder { TextBody = (Body ?? "").Replace("\r\n", "\n") };
        if (Forwarding)
        {
            // Note: the original's bytes as stored (BODY.PEEK[]), once, bounded by
            // messageSizeLimit; parsed persistently, so MimeKit refers to them and copies nothing.
            OpenedMessage opened = Opened!;
            Stream raw = await Mailbox.UseAsync(inbox => inbox.GetStreamAsync(opened.Id, "", cancellationToken), cancellationToken);
            builder.Attachments.Add(new MessagePart { Message = await MimeMessage.LoadAsync(raw, persistent: true, cancellationToken) });
        }
        foreach (IFormFile file in files.Where(f => f.Length > 0))
        {
            ContentType type = ContentType.TryParse(file.ContentType ?? "", out ContentType? parsed) ? parsed : new ContentType("application", "octet-stream");
            // Note: the content is the uploaded file's own stream (ASP.NET keeps uploads over
            // 64 KiB in a temporary file), encoded while MailKit writes to Postfix: no copy of
            // it in memory (BodyBuilder's Add(name, bytes) would hold one or two).
            builder.Attachments.Add(new MimePart(type)
            {
                Content = new MimeContent(file.OpenReadStream()),
                ContentDisposition = new ContentDisposition(ContentDisposition.Attachment),
                ContentTransferEncoding = ContentEncoding.Base64,
                FileName = Path.GetFileName(file.FileName),
            });
        }
        message.Body = builder.ToMessageBody();
        return message;
    }

    private static string Join(IEnumerable<MailboxAddress> addresses) => string.Join(", ", addresses.Select(a => a.ToString()));

    private static string Quote(MimeMessage o, string body) =>
        Replies.Quote(o.Date == DateTimeOffset.MinValue ? null : o.Date, o.From.Mailboxes.FirstOrDefault()?.ToString() ?? "", body);

    private static string HtmlToText(string html)
    {
        var parser = new AngleSharp.Html.Parser.HtmlParser();
        using AngleSharp.Html.Dom.IHtmlDocument doc = parser.ParseDocument(html);
        foreach (AngleSharp.Dom.IElement hidden in doc.QuerySelectorAll("script, style, head").ToList())
        {
            hidden.Remove();
        }
        return doc.Body?.TextContent ?? "";
    }

    [LoggerMessage(EventId = 2010, Level = LogLevel.Information, Message = "webmail: {Mailbox} (tenant {Tenant}) sent {MessageId} to {Recipients} recipients")]
    private static partial void LogSent(ILogger logger, string tenant, string mailbox, string messageId, int recipients);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Warning, Message = "webmail: submission refused a message of {Mailbox} (tenant {Tenant}): {Code} {Reason}")]
    private static partial void LogRefused(ILogger logger, string tenant, string mailbox, int code, string reason);

    [LoggerMessage(EventId = 2013, Level = LogLevel.Warning, Message = "webmail: {Mailbox} (tenant {Tenant}) reached the send limit ({PerHour} an hour); message refused")]
    private static partial void LogLimited(ILogger logger, string tenant, string mailbox, int perHour);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Error, Message = "webmail: cannot send for {Mailbox} (tenant {Tenant}): {Reason}")]
    private static partial void LogFailed(ILogger logger, string tenant, string mailbox, string reason);
}
