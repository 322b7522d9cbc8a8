using MimeKit;
using Respaldo.Configuration;
using Respaldo.Security;

namespace Respaldo.Drills;

/// <summary>
/// The drill's message: Subject "[Respaldo drill] ...", the header <c>X-Respaldo-Drill: ID</c>
/// (the primary's admin filters on either), From the backup's own address, a Date and a
/// Message-ID, a short text in Spanish and English.
/// </summary>
public static class DrillMessage
{
    public const string Header = "X-Respaldo-Drill";

    public const string SubjectPrefix = "[Respaldo drill]";

    public static MimeMessage Create(RespaldoSettings settings, Tenant tenant, DrillTicket ticket, DateTimeOffset now)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Respaldo", ServiceCredential.SenderAddress(settings)));
        message.To.Add(MailboxAddress.Parse(ticket.Recipient));
        message.Subject = $"{SubjectPrefix} {tenant.Name}: simulacro / fire drill {ticket.Id}";
        message.Date = now;
        message.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId(settings.Hostname);
        // Note: RFC 3834 §5: machine-made mail says so, so that auto-responders stay quiet.
        message.Headers.Add("Auto-Submitted", "auto-generated");
        message.Headers.Add(Header, ticket.Id);
        message.Body = new TextPart("plain")
        {
            Text = $"""
                Simulacro de Respaldo {ticket.Id}: este mensaje ha entrado por el servidor de respaldo
                ({settings.Hostname}) y se ha entregado al servidor principal como cualquier otro, para
                comprobar que el camino entero funciona. Puede filtrarse por la cabecera {Header}.

                Respaldo fire drill {ticket.Id}: this message went in through the backup MX
                ({settings.Hostname}) and was handed over to the primary like any other, to prove that
                the whole path works. Filter it by the {Header} header.
                """,
        };
        return message;
    }

    /// <summary>The value of the drill header in a stored message's header block; null when it has none or the file is gone.</summary>
    public static string? ReadId(string path)
    {
        try
        {
            using var reader = new StreamReader(path, System.Text.Encoding.Latin1);
            int read = 0;
            while (reader.ReadLine() is { } line && line.Length > 0 && read < 64 * 1024)
            {
                read += line.Length + 1;
                if (line.StartsWith(Header + ":", StringComparison.OrdinalIgnoreCase))
                {
                    return line[(Header.Length + 1)..].Trim();
                }
            }
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
