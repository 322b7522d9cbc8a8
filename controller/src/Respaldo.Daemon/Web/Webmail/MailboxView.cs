using MailKit;
using MailKit.Search;
using MimeKit;
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
public static class MailboxView
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

    /// <summary>
    /// The message with this UID, or null when the UIDVALIDITY is not this INBOX's or the message
    /// is gone (handed over to the primary, or never here). <paramref name="markSeen"/> sets
    /// \Seen, which Dovecot records by renaming the maildir file (new/X → cur/X:2,S); the bytes
    /// stay the same.
    /// </summary>
    public static async Task<MimeMessage?> OpenAsync(IMailFolder inbox, uint validity, uint uid, bool markSeen, CancellationToken cancellationToken)
    {
        if (validity != inbox.UidValidity || uid == 0)
        {
            return null;
        }
        var id = new UniqueId(validity, uid);
        MimeMessage message;
        try
        {
            // Note: MailKit fetches BODY.PEEK[], which never sets \Seen by itself.
            message = await inbox.GetMessageAsync(id, cancellationToken);
        }
        catch (MessageNotFoundException)
        {
            return null;
        }
        if (markSeen)
        {
            await inbox.AddFlagsAsync(id, MessageFlags.Seen, true, cancellationToken);
        }
        return message;
    }

    /// <summary>Parts offered as downloads, in a fixed order (their index is part of the URL).</summary>
    public static IReadOnlyList<MimeEntity> Attachments(MimeMessage message)
    {
        TextPart? text = message.BodyParts.OfType<TextPart>().FirstOrDefault(t => t.IsPlain && !t.IsAttachment);
        TextPart? html = message.BodyParts.OfType<TextPart>().FirstOrDefault(t => t.IsHtml && !t.IsAttachment);
        return message.BodyParts
            .Where(p => p.IsAttachment || p is MessagePart || (p is MimePart && !ReferenceEquals(p, text) && !ReferenceEquals(p, html) && p is not TextPart && !IsInlineImage(p)))
            .ToList();
    }

    /// <summary>An image the HTML shows by its Content-ID (RFC 2392), not offered again as a file.</summary>
    private static bool IsInlineImage(MimeEntity part) =>
        part.ContentId is not null && part.ContentType.MediaType.Equals("image", StringComparison.OrdinalIgnoreCase) &&
        !part.ContentType.MediaSubtype.Contains("svg", StringComparison.OrdinalIgnoreCase);

    public static string FileName(MimeEntity part, int index) =>
        part switch
        {
            // Note: a name that ends in a slash leaves nothing: no name would mean no
            // Content-Disposition and a download shown inline.
            MimePart { FileName: { Length: > 0 } name } when Path.GetFileName(name.Replace('\\', '/')).Trim() is { Length: > 0 } file => file,
            MessagePart m => (m.Message?.Subject is { Length: > 0 } s ? s : $"message-{index + 1}") + ".eml",
            _ => $"attachment-{index + 1}",
        };

    /// <summary>About how large the file is once decoded (base64 takes 4 bytes for 3), for the list of attachments.</summary>
    public static long? DecodedSize(MimeEntity part) =>
        part is MimePart { Content.Stream: { CanSeek: true } s } p
            ? p.ContentTransferEncoding == ContentEncoding.Base64 ? s.Length * 3 / 4 : s.Length
            : null;

    /// <summary>An inline image (RFC 2392 Content-ID) as a data: URL for the sanitized HTML, or null.</summary>
    public static string? InlineImage(MimeMessage message, string contentId)
    {
        MimePart? part = message.BodyParts.OfType<MimePart>().FirstOrDefault(p => string.Equals(p.ContentId, contentId, StringComparison.Ordinal));
        if (part?.Content is null || !part.ContentType.MediaType.Equals("image", StringComparison.OrdinalIgnoreCase)
            || part.ContentType.MediaSubtype.Contains("svg", StringComparison.OrdinalIgnoreCase))
        {
            // Note: SVG can carry script; it is offered as a download, never inlined.
            return null;
        }
        // Note: base64 decodes to 3/4 of its size: a part that cannot fit is not decoded at all.
        if (part.Content.Stream is { CanSeek: true } encoded && part.ContentTransferEncoding == ContentEncoding.Base64 && encoded.Length * 3 / 4 > MaxInlineImage + 3)
        {
            return null;
        }
        using var bytes = new MemoryStream();
        part.Content.DecodeTo(bytes);
        return bytes.Length > MaxInlineImage ? null : $"data:{part.ContentType.MimeType.ToLowerInvariant()};base64,{Convert.ToBase64String(bytes.GetBuffer(), 0, (int)bytes.Length)}";
    }
}
