using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Respaldo.Configuration;
using Respaldo.Security;
using Respaldo.Storage;

namespace Respaldo.HandOver;

/// <summary>A held message as the journal knows it (holds table).</summary>
public sealed record HeldCopy(long Id, string TenantId, string Mailbox, string Message, string Path, string? Sender, string Reason, int? Code);

/// <summary>
/// An administrator's decision about a held message (dashboard, later the control bus):
/// retry (back into its mailbox's new/, where the watcher picks it up for another hand-over)
/// or bounce (a delivery status notification to the sender, RFC 3464, sent with the null
/// sender through the backup's own submission service; the copy is kept aside in
/// STATE/bounced/, never deleted).
/// </summary>
public static class HoldActions
{
    public static async Task RetryAsync(HeldCopy held, string maildir, Journal.Journal journal)
    {
        await HeldMessages.OneDecisionAtATime.WaitAsync();
        try
        {
            StillHeld(held, journal);
            HoldArea.Release(held.Path, maildir);
            await journal.ResolveHoldAsync(held.Id, "released");
        }
        finally
        {
            HeldMessages.OneDecisionAtATime.Release();
        }
    }

    public static async Task BounceAsync(HeldCopy held, RespaldoSettings settings, Journal.Journal journal, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(held.Sender))
        {
            // Note: RFC 5321 §4.5.5: a message with the null sender is never bounced (no loops).
            throw new InvalidOperationException("the message has the null sender: there is nobody to bounce it to");
        }
        if (!MailboxAddress.TryParse(held.Sender, out MailboxAddress? to))
        {
            throw new InvalidOperationException($"the sender '{held.Sender}' cannot be written as an address: there is nobody to bounce it to");
        }
        // Note: the same lock as respaldoctl's release/bounce: a double click, two admins, or a
        // retry racing a bounce must not send two notifications or bounce a released message.
        await HeldMessages.OneDecisionAtATime.WaitAsync(cancellationToken);
        try
        {
            StillHeld(held, journal);
            await BounceLockedAsync(held, to, settings, journal, cancellationToken);
        }
        finally
        {
            HeldMessages.OneDecisionAtATime.Release();
        }
    }

    private static void StillHeld(HeldCopy held, Journal.Journal journal)
    {
        bool held_ = journal.Query("SELECT 1 FROM holds WHERE id = $id AND state = 'held'", c => c.Parameters.AddWithValue("$id", held.Id), r => r.GetInt64(0)).Count > 0;
        if (!held_ || !File.Exists(held.Path))
        {
            throw new InvalidOperationException($"held message {held.Id} was already released or bounced");
        }
    }

    private static async Task BounceLockedAsync(HeldCopy held, MailboxAddress to, RespaldoSettings settings, Journal.Journal journal, CancellationToken cancellationToken)
    {
        ServiceCredential credential = ServiceCredential.Load(settings)
            ?? throw new InvalidOperationException($"no submission credential at {ServiceCredential.PasswordPath(settings)}: run 'respaldoctl render'");
        MimeMessage dsn = BuildNotification(held, settings, ReadHeaders(held.Path));
        using (var client = new SmtpClient { Timeout = 30_000 })
        {
            await client.ConnectAsync(settings.Listen.Submission.Host, settings.Listen.Submission.Port, SecureSocketOptions.None, cancellationToken);
            await client.AuthenticateAsync(credential.UserName, credential.Password, cancellationToken);
            await client.SendAsync(dsn, new MailboxAddress(string.Empty, string.Empty), [to], cancellationToken);
            await client.DisconnectAsync(true, cancellationToken);
        }
        string aside = System.IO.Path.Combine(settings.StateDirectory, "bounced", held.TenantId, held.Mailbox);
        Directory.CreateDirectory(aside);
        File.Move(held.Path, System.IO.Path.Combine(aside, System.IO.Path.GetFileName(held.Path)), overwrite: false);
        AtomicFile.SyncDirectory(aside);
        await journal.ResolveHoldAsync(held.Id, "bounced");
    }

    private static HeaderList ReadHeaders(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return HeaderList.Load(stream);
    }

    /// <summary>multipart/report: a human explanation, message/delivery-status, and the original's headers (never its body).</summary>
    public static MimeMessage BuildNotification(HeldCopy held, RespaldoSettings settings, HeaderList original)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Mail Delivery System", $"MAILER-DAEMON@{settings.Hostname}"));
        message.To.Add(MailboxAddress.Parse(held.Sender!));
        message.Subject = "Undelivered Mail Returned to Sender";
        message.Headers.Add("Auto-Submitted", "auto-replied");
        var report = new MultipartReport("delivery-status");
        report.Add(new TextPart("plain")
        {
            Text = $"This is the mail system at host {settings.Hostname}.\n\n" +
                   $"Your message to <{held.Mailbox}> could not be delivered. The recipient's mail server refused it permanently:\n\n" +
                   $"    {held.Reason}\n\nAn administrator reviewed it and returned it to you.\n",
        });
        var status = new MessageDeliveryStatus();
        var perMessage = new HeaderList { { "Reporting-MTA", $"dns; {settings.Hostname}" }, { "Arrival-Date", DateTimeOffset.UtcNow.ToString("r", System.Globalization.CultureInfo.InvariantCulture) } };
        var perRecipient = new HeaderList
        {
            { "Final-Recipient", $"rfc822; {held.Mailbox}" },
            { "Action", "failed" },
            { "Status", "5.0.0" },
            { "Diagnostic-Code", $"smtp; {held.Reason}" },
        };
        status.StatusGroups.Add(perMessage);
        status.StatusGroups.Add(perRecipient);
        report.Add(status);
        var stream = new MemoryStream();
        original.WriteTo(stream);
        stream.Position = 0;
        report.Add(new MimePart("text", "rfc822-headers") { Content = new MimeContent(stream) });
        message.Body = report;
        return message;
    }
}
