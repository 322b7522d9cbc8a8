using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MimeKit;
using MimeKit.IO;
using MimeKit.IO.Filters;
using Respaldo.Webmail;

namespace Respaldo.Daemon.Web.Webmail;

/// <summary>One line of the message list.</summary>
public sealed record MessageRow(uint Uid, string From, string Subject, DateTimeOffset Date, long Size, bool HasAttachments, bool Seen);

/// <summary>A page of the message list, newest first; <see cref="Validity"/> is INBOX's UIDVALIDITY, part of every message URL.</summary>
public sealed record MessageList(uint Validity, PageWindow Window, IReadOnlyList<MessageRow> Rows, string? Query);

/// <summary>
/// What the webmail asks of the logged-in user's INBOX over IMAP (RFC 9051). Messages are named
/// by UID and UIDVALIDITY (§2.3.1.1) inside the user's own session, so an id taken from another
/// mailbox names nothing here, or a message of this mailbox.
/// </summary>
public static partial class MailboxView
{
    public const int PageSize = 25;

    /// <summary>Largest inline (cid:) image put into the frame as a data: URL.</summary>
    public const long MaxInlineImage = 2 * 1024 * 1024;

    public static async Task<MessageList> ListAsync(IMailFolder inbox, int? page, string? query, CancellationToken cancellationToken)
    {
        string? q = string.IsNullOrWhiteSpace(query) ? null : query.Trim();
        // Note: UID SEARCH on Dovecot; FROM and SUBJECT match substrings, case-insensitively (RFC 9051 §6.4.4).
        SearchQuery search = q is null ? SearchQuery.All : SearchQuery.FromContains(q).Or(SearchQuery.SubjectContains(q));
        // Note: UIDs need not follow arrival: Dovecot numbers the files it finds in new/ in
        // directory order when several land between two looks. SORT (RFC 5256) by ARRIVAL
        // (INTERNALDATE, the delivery time) gives the order people expect.
        List<UniqueId> oldestFirst = inbox.Supports(FolderFeature.Sorting)
            ? (await inbox.SortAsync(search, [OrderBy.Arrival], cancellationToken)).ToList()
            : (await inbox.SearchAsync(search, cancellationToken)).OrderBy(u => u.Id).ToList();
        PageWindow window = PageWindow.For(page, PageSize, oldestFirst.Count);
        IReadOnlyList<UniqueId> shown = window.Slice(oldestFirst);
        var rows = new List<MessageRow>(shown.Count);
        if (shown.Count > 0)
        {
            IList<IMessageSummary> summaries = await inbox.FetchAsync(
                shown.ToList(),
                MessageSummaryItems.UniqueId | MessageSummaryItems.Envelope | MessageSummaryItems.Flags | MessageSummaryItems.Size |
                MessageSummaryItems.BodyStructure | MessageSummaryItems.InternalDate,
                cancellationToken);
            var position = shown.Select((u, i) => (u.Id, i)).ToDictionary(p => p.Id, p => p.i);
            foreach (IMessageSummary s in summaries.OrderBy(s => position.GetValueOrDefault(s.UniqueId.Id, int.MaxValue)))
            {
                MailboxAddress? from = s.Envelope?.From.Mailboxes.FirstOrDefault();
                rows.Add(new MessageRow(
                    s.UniqueId.Id,
                    from is null ? "" : string.IsNullOrWhiteSpace(from.Name) ? from.Address : $"{from.Name} <{from.Address}>",
                    s.Envelope?.Subject ?? "",
                    s.Envelope?.Date ?? s.InternalDate ?? DateTimeOffset.MinValue,
                    s.Size ?? 0,
                    s.Body is not null && s.Attachments.Any(),
                    s.Flags?.HasFlag(MessageFlags.Seen) == true));
            }
        }
        return new MessageList(inbox.UidValidity, window, rows, q);
    }

    /// <summary>Most of a text or HTML part (as stored, encoded) the webmail shows; a larger one is offered as a download.</summary>
    public const long MaxShownText = 1024 * 1024;

    /// <summary>At most this many inline (cid:) images are fetched for one message's HTML.</summary>
    public const int MaxInlineImages = 100;

    /// <summary>A download goes from Dovecot to the browser in pieces of this size (BODY.PEEK[n]&lt;offset.count&gt;).</summary>
    public const int Chunk = 1024 * 1024;

    /// <summary>
    /// The message with this UID, or null when the UIDVALIDITY is not this INBOX's or the message
    /// is gone (handed over to the primary, or never here). Only its header section and its
    /// structure are fetched (BODY.PEEK[HEADER], BODYSTRUCTURE), never its body: a 50 MiB
    /// message costs what its headers cost until a part of it is asked for.
    /// <paramref name="markSeen"/> sets \Seen, which Dovecot records by renaming the maildir file
    /// (new/X → cur/X:2,S); the bytes stay the same.
    /// </summary>
    public static async Task<OpenedMessage?> OpenAsync(IMailFolder inbox, uint validity, uint uid, bool markSeen, CancellationToken cancellationToken)
    {
        if (validity != inbox.UidValidity || uid == 0)
        {
            return null;
        }
        var id = new UniqueId(validity, uid);
        IList<IMessageSummary> found = await inbox.FetchAsync([id],
            MessageSummaryItems.UniqueId | MessageSummaryItems.Size | MessageSummaryItems.BodyStructure | MessageSummaryItems.Headers, cancellationToken);
        if (found.FirstOrDefault(f => f.UniqueId.Id == uid) is not { Headers: not null, Body: not null } summary)
        {
            return null;
        }
        using var head = new MemoryStream();
        await summary.Headers.WriteToAsync(head, cancellationToken);
        head.Write("\r\n"u8);
        head.Position = 0;
        MimeMessage message = await MimeMessage.LoadAsync(head, cancellationToken);
        if (markSeen)
        {
            await inbox.AddFlagsAsync(id, MessageFlags.Seen, true, cancellationToken);
        }
        return new OpenedMessage(id, message, summary);
    }

    /// <summary>A text part larger than the webmail shows.</summary>
    public static bool TooLarge(BodyPartBasic part) => part.Octets > MaxShownText;

    /// <summary>A text or HTML part's text, decoded; only for a part that is not <see cref="TooLarge"/>.</summary>
    public static async Task<string> TextAsync(IMailFolder inbox, OpenedMessage message, BodyPartText part, CancellationToken cancellationToken)
    {
        MimeEntity entity = await inbox.GetBodyPartAsync(message.Id, part, cancellationToken);
        return entity is TextPart text ? text.Text ?? "" : "";
    }

    /// <summary>
    /// The message's HTML made safe for the frame (or its plain text as HTML), sanitized once.
    /// Inline images are fetched part by part, only those the HTML names, within
    /// <see cref="MaxInlineImage"/> each and <see cref="MessageHtml.InlineBudget"/> in all.
    /// </summary>
    public static async Task<SanitizedHtml> RenderAsync(IMailFolder inbox, OpenedMessage message, bool remoteImages, CancellationToken cancellationToken)
    {
        if (message.Html is { } html && !TooLarge(html))
        {
            string source = await TextAsync(inbox, message, html, cancellationToken);
            Dictionary<string, string> images = await InlineImagesAsync(inbox, message, source, cancellationToken);
            return MessageHtml.Sanitize(source, remoteImages, cid => images.GetValueOrDefault(cid));
        }
        if (message.Html is null && message.Text is { } text && !TooLarge(text))
        {
            return MessageHtml.Sanitize("<pre>" + System.Net.WebUtility.HtmlEncode(await TextAsync(inbox, message, text, cancellationToken)) + "</pre>", remoteImages);
        }
        // Note: the page says the same in the reader's language and offers the part as a download.
        return new SanitizedHtml(message.Html is null && message.Text is null ? "" : "<p>This message is too large to show here; download it from the message's page.</p>", 0);
    }

    private static async Task<Dictionary<string, string>> InlineImagesAsync(IMailFolder inbox, OpenedMessage message, string html, CancellationToken cancellationToken)
    {
        var images = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!html.Contains("cid:", StringComparison.OrdinalIgnoreCase))
        {
            return images;
        }
        var named = CidReference().Matches(html).Select(m => Uri.UnescapeDataString(m.Groups[1].Value)).ToHashSet(StringComparer.Ordinal);
        long budget = MessageHtml.InlineBudget;
        foreach (BodyPartBasic part in message.Summary.BodyParts)
        {
            if (images.Count >= MaxInlineImages || part.ContentId?.Trim('<', '>') is not { } cid || !named.Contains(cid) || images.ContainsKey(cid)
                || !part.ContentType.MediaType.Equals("image", StringComparison.OrdinalIgnoreCase)
                || part.ContentType.MediaSubtype.Contains("svg", StringComparison.OrdinalIgnoreCase))
            {
                // Note: SVG can carry script; it is offered as a download, never inlined.
                continue;
            }
            long decoded = DecodedSize(part);
            // Note: a data: URL takes 4 characters for 3 bytes; a part that cannot fit is not fetched at all.
            if (decoded > MaxInlineImage || decoded * 4 / 3 > budget)
            {
                continue;
            }
            if (await inbox.GetBodyPartAsync(message.Id, part, cancellationToken) is not MimePart { Content: { } content })
            {
                continue;
            }
            using var bytes = new MemoryStream();
            await content.DecodeToAsync(bytes, cancellationToken);
            if (bytes.Length > MaxInlineImage)
            {
                continue;
            }
            string url = $"data:{part.ContentType.MimeType.ToLowerInvariant()};base64,{Convert.ToBase64String(bytes.GetBuffer(), 0, (int)bytes.Length)}";
            budget -= url.Length;
            images[cid] = url;
        }
        return images;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"cid:([^""'\s>)]+)", System.Text.RegularExpressions.RegexOptions.IgnoreCase)]
    private static partial System.Text.RegularExpressions.Regex CidReference();

    /// <summary>
    /// Parts offered as downloads, in a fixed order (their index is part of the URL): attachments,
    /// attached messages, other non-text parts that are not inline images, and the text or HTML
    /// body when it is too large to show.
    /// </summary>
    public static IReadOnlyList<BodyPartBasic> Attachments(IMessageSummary summary)
    {
        BodyPartText? text = summary.TextBody;
        BodyPartText? html = summary.HtmlBody;
        return summary.BodyParts
            .Where(p => p.IsAttachment || p is BodyPartMessage
                || ((ReferenceEquals(p, text) || ReferenceEquals(p, html)) ? TooLarge(p) : p is not BodyPartText && !IsInlineImage(p)))
            .ToList();
    }

    /// <summary>An image the HTML shows by its Content-ID (RFC 2392), not offered again as a file.</summary>
    private static bool IsInlineImage(BodyPartBasic part) =>
        part.ContentId is not null && part.ContentType.MediaType.Equals("image", StringComparison.OrdinalIgnoreCase) &&
        !part.ContentType.MediaSubtype.Contains("svg", StringComparison.OrdinalIgnoreCase);

    public static string FileName(BodyPartBasic part, int index) =>
        part switch
        {
            BodyPartMessage m => (m.Envelope?.Subject is { Length: > 0 } s ? s : $"message-{index + 1}") + ".eml",
            // Note: a name that ends in a slash leaves nothing: no name would mean no
            // Content-Disposition and a download shown inline.
            { FileName: { Length: > 0 } name } when Path.GetFileName(name.Replace('\\', '/')).Trim() is { Length: > 0 } file => file,
            BodyPartText { IsHtml: true } => $"message-{index + 1}.html",
            BodyPartText => $"message-{index + 1}.txt",
            _ => $"attachment-{index + 1}",
        };

    /// <summary>About how large the file is once decoded (base64 takes 4 bytes for 3).</summary>
    public static long DecodedSize(BodyPartBasic part) =>
        string.Equals(part.ContentTransferEncoding, "base64", StringComparison.OrdinalIgnoreCase) ? part.Octets * 3 / 4 : part.Octets;

    /// <summary>
    /// Writes one part, decoded, to <paramref name="output"/> (the HTTP response) piece by piece
    /// (<see cref="Chunk"/> bytes of it at a time from Dovecot), so a 50 MiB attachment costs
    /// a megabyte or two of memory, not the message parsed and copied twice.
    /// </summary>
    public static async Task CopyPartAsync(IMailFolder inbox, UniqueId id, BodyPartBasic part, Stream output, CancellationToken cancellationToken)
    {
        // Note: BODY[n] is a part's content without its MIME header; a message that is one
        // single part has its content at BODY[TEXT]. An attached message (message/rfc822) is
        // given as it is, never decoded.
        string section = part.PartSpecifier.Length > 0 ? part.PartSpecifier : "TEXT";
        var filtered = new FilteredStream(output);
        if (part is not BodyPartMessage && MimeKit.Utils.MimeUtils.TryParse(part.ContentTransferEncoding, out ContentEncoding encoding)
            && encoding is ContentEncoding.Base64 or ContentEncoding.QuotedPrintable or ContentEncoding.UUEncode)
        {
            filtered.Add(DecoderFilter.Create(encoding));
        }
        for (int offset = 0; ; offset += Chunk)
        {
            Stream piece;
            try
            {
                piece = await inbox.GetStreamAsync(id, section, offset, Chunk, cancellationToken);
            }
            catch (Exception e) when (offset > 0 && e is IOException or ImapProtocolException or ServiceNotConnectedException)
            {
                // Note: half of the file is already with the browser: starting again on a new
                // connection (WebmailSession.UseAsync retries) would append the start once more.
                throw new OperationCanceledException("the connection to Dovecot broke during a download", e);
            }
            using (piece)
            {
                long length = piece.Length;
                try
                {
                    await piece.CopyToAsync(filtered, cancellationToken);
                }
                catch (IOException e)
                {
                    // Note: the browser went away; not a Dovecot fault to retry.
                    throw new OperationCanceledException("the browser stopped the download", e);
                }
                if (length < Chunk)
                {
                    break;
                }
            }
        }
        await filtered.FlushAsync(cancellationToken);
    }
}

/// <summary>A message opened in the webmail: its headers (parsed, with no body) and its structure, nothing more.</summary>
public sealed record OpenedMessage(UniqueId Id, MimeMessage Head, IMessageSummary Summary)
{
    public BodyPartText? Text => Summary.TextBody;

    public BodyPartText? Html => Summary.HtmlBody;

    public long Size => (long)(Summary.Size ?? 0);
}
