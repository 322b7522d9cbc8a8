namespace Respaldo.Configuration;

// listen: where the border and the loopback-only services listen.
public static partial class ConfigurationValidator
{
    private static ListenSettings ValidateListen(ListenSection? section, ConfigPath at)
    {
        var smtp = new List<HostPort>();
        if (section?.Smtp is null)
        {
            smtp.Add(new HostPort("*", SmtpPort));
        }
        else if (section.Smtp.Count == 0)
        {
            at.At("smtp").Error("at least one address is required (\"*:25\" listens on every address)");
        }
        else
        {
            for (int i = 0; i < section.Smtp.Count; i++)
            {
                if (HostPort.TryParse(section.Smtp[i], SmtpPort, out HostPort e, out string message))
                {
                    smtp.Add(e);
                }
                else
                {
                    at.At("smtp").At(i).Error(message);
                }
            }
        }
        if (section?.Lmtp is not null)
        {
            // Note: Postfix reaches Dovecot's LMTP over a unix socket only the postfix user may
            // open; a TCP port let any local process deliver past the border (README, Security).
            at.At("lmtp").Error("is no longer a setting: Postfix delivers to Dovecot over a unix socket (dovecot.baseDirectory/lmtp-postfix), no LMTP port listens; remove it");
        }
        HostPort imap = LoopbackEndpoint(section?.Imap, "127.0.0.1:143", at.At("imap"));
        HostPort submission = LoopbackEndpoint(section?.Submission, "127.0.0.1:587", at.At("submission"));
        return new ListenSettings(smtp, imap) { Submission = submission };
    }

    /// <summary>IMAP and submission carry plain logins: loopback only.</summary>
    private static HostPort LoopbackEndpoint(string? text, string fallback, ConfigPath at)
    {
        if (!HostPort.TryParse(text ?? fallback, null, out HostPort e, out string message))
        {
            at.Error(message);
            return new HostPort("127.0.0.1", 1);
        }
        if (!IsLoopback(e))
        {
            at.Error($"\"{text}\": must be a loopback address (127.0.0.0/8 or ::1); it is never exposed");
        }
        return e;
    }

    private static bool IsLoopback(HostPort e) =>
        e.Host == "localhost" || (System.Net.IPAddress.TryParse(e.Host, out System.Net.IPAddress? ip) && System.Net.IPAddress.IsLoopback(ip));
}
