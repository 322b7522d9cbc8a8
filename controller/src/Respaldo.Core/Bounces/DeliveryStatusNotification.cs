using System.Globalization;
using System.Text;
using MimeKit;
using Respaldo.Mailboxes;

namespace Respaldo.Bounces;

/// <summary>
/// Builds the bounce of a held message: a delivery status notification (RFC 3464) in a
/// multipart/report (RFC 6522) with a human-readable part, the machine-readable
/// message/delivery-status part and the original's headers (text/rfc822-headers: the body is
/// not returned, it may be large or private). Pure: no I/O, the caller sends it.
/// </summary>
public static class DeliveryStatusNotification
{
    /// <summary>
    /// The DSN for <paramref name="report"/>, or null when there is nobody to tell: a message
    /// with the null sender is itself a notification, and answering it could loop forever
    /// (RFC 5321 §4.5.5, RFC 3464 §2 "MUST NOT be sent to the null reverse-path").
    /// </summary>
    /// <param name="originalHead">The start of the held file; its header section is quoted (our own trace headers removed).</param>
    public static MimeMessage? Build(BounceReport report, ReadOnlySpan<byte> originalHead)
    {
        if (string.IsNullOrEmpty(report.Sender) || report.Sender == "<>")
        {
            return null;
        }
        string status = StatusOf(report.Code, report.Reason);
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Mail Delivery System", "MAILER-DAEMON@" + report.ReportingHost));
        message.To.Add(MailboxAddress.Parse(report.Sender));
        message.Subject = "Undelivered Mail Returned to Sender";
        message.Date = report.HeldAt;
        message.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId(report.ReportingHost);
        // Note: RFC 3834 §5: automatic responses say so, so that vacation responders stay quiet.
        message.Headers.Add("Auto-Submitted", "auto-replied");

        var human = new TextPart("plain")
        {
            Text = HumanText(report),
        };
        var statusPart = new MessageDeliveryStatus();
        HeaderList perMessage = new()
        {
            { "Reporting-MTA", "dns; " + report.ReportingHost },
            { "Arrival-Date", MimeKit.Utils.DateUtils.FormatDate(report.ArrivedAt) },
        };
        HeaderList perRecipient = new()
        {
            { "Final-Recipient", "rfc822; " + report.Recipient },
            { "Action", "failed" },
            { "Status", status },
        };
        if (report.RemoteHost is { } remote)
        {
            perRecipient.Add("Remote-MTA", "dns; " + remote);
        }
        perRecipient.Add("Diagnostic-Code", "smtp; " + OneLine(report.Code is { } c ? $"{c} {report.Reason}" : report.Reason));
        perRecipient.Add("Last-Attempt-Date", MimeKit.Utils.DateUtils.FormatDate(report.HeldAt));
        statusPart.StatusGroups.Add(perMessage);
        statusPart.StatusGroups.Add(perRecipient);

        var headers = new MimePart("text", "rfc822-headers")
        {
            Content = new MimeContent(new MemoryStream(OriginalHeaders(originalHead))),
            ContentTransferEncoding = ContentEncoding.SevenBit,
        };
        var report6522 = new MultipartReport("delivery-status") { human, statusPart, headers };
        message.Body = report6522;
        return message;
    }

    /// <summary>
    /// The enhanced status code (RFC 3463) for the DSN's Status field: the one the primary's
    /// reply text starts with when it gave one (RFC 2034), else one derived from the basic
    /// code (550/551/553 → 5.1.1 bad mailbox, 552 → 5.3.4 too big), else 5.0.0.
    /// </summary>
    public static string StatusOf(int? code, string reason)
    {
        System.Text.RegularExpressions.Match m = System.Text.RegularExpressions.Regex.Match(reason, @"^\s*(?:\d{3}[ -])?(5\.\d{1,3}\.\d{1,3})\b");
        return m.Success ? m.Groups[1].Value : StatusOf(code);
    }

    private static string StatusOf(int? code) => code switch
    {
        552 => "5.3.4",
        550 or 551 or 553 => "5.1.1",
        _ => "5.0.0",
    };

    private static string HumanText(BounceReport r)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"This is the mail system at host {r.ReportingHost}.\n\n");
        text.Append("Your message could not be delivered to one of its recipients. It was kept\n");
        text.Append("at this backup mail server while the recipient's own server was unavailable,\n");
        text.Append("and that server refused it for good when it was handed over.\n\n");
        text.Append(CultureInfo.InvariantCulture, $"<{r.Recipient}>: {OneLine(r.RemoteHost is null ? r.Reason : $"host {r.RemoteHost} said: {(r.Code is { } c ? $"{c} " : "")}{r.Reason}")}\n\n");
        text.Append("The headers of your message are attached.\n");
        return text.ToString();
    }

    /// <summary>The original's header section, without the trace headers our own delivery added, ASCII-safe.</summary>
    private static byte[] OriginalHeaders(ReadOnlySpan<byte> head)
    {
        TraceHeaders.Result trace = TraceHeaders.Parse(head);
        ReadOnlySpan<byte> rest = head[trace.Length..];
        int end = rest.IndexOf("\n\n"u8);
        int endCrLf = rest.IndexOf("\r\n\r\n"u8);
        int cut = (end, endCrLf) switch
        {
            (< 0, < 0) => rest.Length,
            (< 0, _) => endCrLf + 2,
            (_, < 0) => end + 1,
            _ => Math.Min(end + 1, endCrLf + 2),
        };
        byte[] bytes = rest[..cut].ToArray();
        // Note: text/rfc822-headers is 7bit here; raw 8-bit header bytes (RFC 6532) become '?',
        // the machine-readable part does not depend on them.
        for (int i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] > 0x7f)
            {
                bytes[i] = (byte)'?';
            }
        }
        return bytes;
    }

    private static string OneLine(string s) => s.Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal).Trim();
}
