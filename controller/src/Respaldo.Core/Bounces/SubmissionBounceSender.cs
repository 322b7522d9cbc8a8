using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Respaldo.Configuration;
using Respaldo.Security;

namespace Respaldo.Bounces;

/// <summary>
/// Sends bounces the way alerts go out: to the backup's own Postfix on its loopback
/// submission port (<c>listen.submission</c>), logged in with the controller's credential
/// (made by <c>respaldoctl render</c> in STATE/secrets/), with the null reverse-path. Postfix
/// then delivers by MX or through <c>postfix.relayHost</c>, never through the primary.
/// </summary>
public sealed class SubmissionBounceSender(Func<RespaldoSettings> settings) : IBounceSender
{
    public bool IsAvailable => ServiceCredential.Load(settings()) is not null;

    public async Task SendAsync(string recipient, MimeMessage dsn, CancellationToken cancellationToken)
    {
        RespaldoSettings s = settings();
        ServiceCredential credential = ServiceCredential.Load(s)
            ?? throw new BounceNotSentException($"no submission path: no credential at {ServiceCredential.PasswordPath(s)} (run 'respaldoctl render'); the message stays held");
        if (!MailboxAddress.TryParse(recipient, out MailboxAddress? to))
        {
            throw new BounceNotSentException($"the sender '{recipient}' cannot be written as an address; the message stays held");
        }
        try
        {
            using var client = new SmtpClient { Timeout = 30_000 };
            await client.ConnectAsync(s.Listen.Submission.Host, s.Listen.Submission.Port, SecureSocketOptions.None, cancellationToken);
            await client.AuthenticateAsync(credential.UserName, credential.Password, cancellationToken);
            await client.SendAsync(dsn, new MailboxAddress(string.Empty, string.Empty), [to], cancellationToken);
            await client.DisconnectAsync(true, cancellationToken);
        }
        catch (Exception e) when (e is IOException or MailKit.CommandException or MailKit.ProtocolException
            or AuthenticationException or System.Net.Sockets.SocketException or TimeoutException)
        {
            throw new BounceNotSentException($"the local Postfix did not take the bounce ({s.Listen.Submission}): {e.Message}; the message stays held", e);
        }
    }
}
