using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Respaldo.Configuration;
using Respaldo.Security;

namespace Respaldo.Alerts;

/// <summary>
/// Alerts by e-mail, straight out through the backup's own Postfix (never through the primary,
/// which is what is down): an authenticated submission on the loopback (listen.submission) with
/// the controller's service login; Postfix then delivers by MX, or to postfix.relayHost.
/// </summary>
public sealed class EmailAlertChannel(Func<RespaldoSettings> settings) : IAlertChannel
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public string Name => "email";

    public bool AppliesTo(Tenant tenant) => tenant.AlertEmails.Count > 0;

    public async Task SendAsync(ComposedAlert alert, Tenant tenant, CancellationToken cancellationToken)
    {
        RespaldoSettings s = settings();
        ServiceCredential credential = ServiceCredential.Load(s)
            ?? throw new InvalidOperationException($"no submission credential at {ServiceCredential.PasswordPath(s)}: run 'respaldoctl render'");
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Respaldo", ServiceCredential.SenderAddress(s)));
        foreach (string to in tenant.AlertEmails)
        {
            message.To.Add(MailboxAddress.Parse(to));
        }
        message.Subject = alert.Subject;
        message.Date = alert.At;
        message.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId(s.Hostname);
        // Note: RFC 3834 §5: machine-made mail says so, so that auto-responders stay quiet.
        message.Headers.Add("Auto-Submitted", "auto-generated");
        message.Headers.Add("X-Respaldo-Alert", alert.Kind);
        message.Headers.Add("X-Respaldo-Alert-Id", alert.Key);
        message.Headers.Add("X-Respaldo-Tenant", tenant.Id);
        message.Body = new TextPart("plain") { Text = alert.Body };

        using var client = new SmtpClient { Timeout = (int)Timeout.TotalMilliseconds };
        HostPort at = s.Listen.Submission;
        await client.ConnectAsync(at.Host, at.Port, SecureSocketOptions.None, cancellationToken);
        await client.AuthenticateAsync(credential.UserName, credential.Password, cancellationToken);
        await client.SendAsync(message, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
    }
}
