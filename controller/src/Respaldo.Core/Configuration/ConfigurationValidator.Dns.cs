namespace Respaldo.Configuration;

// dns: the resolvers the border asks.
public static partial class ConfigurationValidator
{
    private static DnsSettings ValidateDns(DnsSection? section, ConfigPath at)
    {
        if (section?.Resolvers is null)
        {
            return DnsSettings.System;
        }
        var resolvers = new List<HostPort>();
        for (int i = 0; i < section.Resolvers.Count; i++)
        {
            ConfigPath entry = at.At("resolvers").At(i);
            if (!HostPort.TryParse(section.Resolvers[i], 53, out HostPort r, out string message))
            {
                entry.Error(message);
            }
            else if (!System.Net.IPAddress.TryParse(r.Host, out _))
            {
                // Note: a resolver named by a host name would need a resolver to be found.
                entry.Error($"\"{section.Resolvers[i]}\": a resolver is an IP address (with an optional :port)");
            }
            else
            {
                resolvers.Add(r);
            }
        }
        return new DnsSettings(resolvers);
    }
}
