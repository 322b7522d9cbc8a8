using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Respaldo.Configuration;

namespace Respaldo.Daemon.Web.Webmail;

/// <summary>
/// Sends what a webmail user wrote through the backup's own Postfix (listen.submission, loopback),
/// logged in as the mailbox itself: Postfix's smtpd_sender_login_maps lets that login use its
/// own address only, so a tampered form cannot send as anybody else (we check it first as well).
/// </summary>
internal static class Outbox
{
    public static async Task SendAsync(MimeMessage message, HostPort submission, string address, string password, CancellationToken cancellationToken)
    {
        using var client = new SmtpClient { Timeout = 60_000 };
        await client.ConnectAsync(submission.Host, submission.Port, SecureSocketOptions.None, cancellationToken);
        await client.AuthenticateAsync(address, password, cancellationToken);
        // Note: the envelope sender is the mailbox; MailKit sends to To, Cc and Bcc and leaves the
        // Bcc header out of the data it transmits.
        await client.SendAsync(message, MailboxAddress.Parse(address), message.GetRecipients(onlyUnique: true), cancellationToken);
        await client.DisconnectAsync(true, cancellationToken);
    }
}
