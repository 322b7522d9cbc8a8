namespace Respaldo.Configuration;

// tenants[].primary: the company's own mail server.
public static partial class ConfigurationValidator
{
    private static PrimaryServer ValidatePrimary(
        PrimarySection? p, ConfigPath at, Func<string, bool> inDomains)
    {
        var hosts = new List<HostPort>();
        if (p?.Hosts is null || p.Hosts.Count == 0)
        {
            at.At("hosts").Error("at least one host is required: the company's own mail server (\"mail.example.com\" or \"mail.example.com:25\")");
        }
        else
        {
            for (int i = 0; i < p.Hosts.Count; i++)
            {
                if (HostPort.TryParse(p.Hosts[i], SmtpPort, out HostPort e, out string message) && !e.IsWildcard)
                {
                    hosts.Add(e);
                }
                else
                {
                    at.At("hosts").At(i).Error(e.IsWildcard ? "\"*\" is not a host" : message);
                }
            }
        }
        TlsPolicy tls = TlsPolicy.Opportunistic;
        bool tlsValid = p?.Tls is not { } text
            || (!int.TryParse(text, out _) && Enum.TryParse(text, ignoreCase: true, out tls));
        if (!tlsValid)
        {
            at.At("tls").Error($"\"{p?.Tls}\" must be one of none, opportunistic, require, verify");
        }
        string? probe = null;
        if (p?.ProbeRecipient is { } r)
        {
            if (!MailAddress.TryNormalize(r, out string address, out string message))
            {
                at.At("probeRecipient").Error(message);
            }
            else if (!inDomains(address))
            {
                at.At("probeRecipient").Error($"\"{address}\" must be an address in this tenant's domains that the primary accepts");
            }
            else
            {
                probe = address;
            }
        }
        string probeSender = "";
        if (!string.IsNullOrEmpty(p?.ProbeSender))
        {
            if (MailAddress.TryNormalize(p.ProbeSender, out string sender, out string message))
            {
                probeSender = sender;
            }
            else
            {
                at.At("probeSender").Error(message);
            }
        }
        int connections = p?.Connections ?? 4;
        if (connections is < 1 or > 64)
        {
            at.At("connections").Error($"{connections} must be from 1 to 64");
        }
        double rate = p?.MaxMessagesPerSecond ?? 0;
        if (double.IsNaN(rate) || rate < 0)
        {
            at.At("maxMessagesPerSecond").Error("must be 0 (no cap) or more");
        }
        return new PrimaryServer(hosts, tls, probe, probeSender, connections, rate);
    }
}
