namespace Respaldo.Configuration;

// postfix: the MTA's directories, protocols and relay host.
public static partial class ConfigurationValidator
{
    private static PostfixSettings ValidatePostfix(PostfixSection? section, ConfigPath at)
    {
        string protocols = section?.InetProtocols?.Trim() ?? "all";
        if (protocols is not ("all" or "ipv4" or "ipv6" or "ipv4, ipv6"))
        {
            at.At("inetProtocols").Error($"\"{protocols}\" must be all, ipv4 or ipv6");
        }
        string? relayHost = null;
        if (section?.RelayHost is { } relay)
        {
            // Note: Postfix's relayhost syntax: "[host]:port" skips the MX lookup (the lab, a
            // smarthost); "host:port" looks up MX records of host.
            string inner = relay.StartsWith('[') ? relay.Replace("[", "", StringComparison.Ordinal).Replace("]", "", StringComparison.Ordinal) : relay;
            if (!HostPort.TryParse(inner, SmtpPort, out HostPort hop, out string message) || hop.IsWildcard)
            {
                at.At("relayHost").Error(hop.IsWildcard ? "\"*\" is not a host" : message);
            }
            else
            {
                relayHost = relay.Trim();
            }
        }
        return new PostfixSettings(
            AbsolutePath(section?.QueueDirectory, "/var/spool/postfix", at.At("queueDirectory")),
            AbsolutePath(section?.DataDirectory, "/var/lib/postfix", at.At("dataDirectory")),
            OptionalAbsolutePath(section?.LogFile, at.At("logFile")),
            protocols,
            section?.DisableDns ?? false)
        { RelayHost = relayHost };
    }
}
