using System.Globalization;
using System.Text.RegularExpressions;

namespace Respaldo.Configuration;

// Note: the border's sections (dns, filter, intake's postscreen lists, tenants[].filtering),
// validated like the rest: every error names its JSON path, defaults live here.
public static partial class ConfigurationValidator
{
    /// <summary>A DKIM selector is one DNS label (RFC 6376 §3.1).</summary>
    [GeneratedRegex(@"\A[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\z", RegexOptions.CultureInvariant)]
    private static partial Regex DnsLabel();

    private static DnsSettings ValidateDns(DnsSection? section, Action<string, string> error)
    {
        if (section?.Resolvers is null)
        {
            return DnsSettings.System;
        }
        var resolvers = new List<HostPort>();
        for (int i = 0; i < section.Resolvers.Count; i++)
        {
            string path = $"dns.resolvers[{i}]";
            if (!HostPort.TryParse(section.Resolvers[i], 53, out HostPort r, out string message))
            {
                error(path, message);
            }
            else if (!System.Net.IPAddress.TryParse(r.Host, out _))
            {
                // Note: a resolver named by a host name would need a resolver to be found.
                error(path, $"\"{section.Resolvers[i]}\": a resolver is an IP address (with an optional :port)");
            }
            else
            {
                resolvers.Add(r);
            }
        }
        return new DnsSettings(resolvers);
    }

    private static FilterSettings ValidateFilter(FilterSection? section, string hostname, Action<string, string> error)
    {
        FilterSettings d = FilterSettings.Default(hostname);
        HostPort milter = section?.Milter is null ? d.Milter
            : LoopbackEndpoint(section.Milter, d.Milter.ToString(), "filter.milter", error);
        if (milter.Port == 0)
        {
            error("filter.milter", "a port is required (\"127.0.0.1:11339\")");
        }
        string selector = section?.ArcSelector?.Trim().ToLowerInvariant() ?? d.ArcSelector;
        if (!DnsLabel().IsMatch(selector))
        {
            error("filter.arcSelector", $"\"{section?.ArcSelector}\" must be one DNS label (letters, digits, '-')");
        }
        string arcDomain = section?.ArcDomain?.Trim().ToLowerInvariant() ?? hostname;
        if (section?.ArcDomain is not null && !HostName.IsValid(arcDomain))
        {
            error("filter.arcDomain", $"\"{section.ArcDomain}\" is not a valid domain name");
        }
        TimeSpan timeout = d.Timeout;
        if (section?.TimeoutSeconds is { } seconds)
        {
            if (double.IsNaN(seconds) || seconds is < 1 or > 600)
            {
                error("filter.timeoutSeconds", $"{seconds} must be from 1 to 600 seconds");
            }
            else
            {
                timeout = TimeSpan.FromSeconds(seconds);
            }
        }
        HostPort? scan = section?.ScanListen is null ? null
            : LoopbackEndpoint(section.ScanListen, "127.0.0.1:11334", "filter.scanListen", error);
        return new FilterSettings(
            section?.Enabled ?? true,
            milter,
            AbsolutePath(section?.WorkDirectory, d.WorkDirectory, "filter.workDirectory", error),
            OptionalAbsolutePath(section?.LogFile, "filter.logFile", error),
            selector,
            arcDomain,
            timeout)
        {
            ScanListen = scan,
            HostnameChecks = section?.HostnameChecks ?? true,
        };
    }

    private static IntakeSettings ValidatePostscreen(IntakeSection? section, IntakeSettings intake, Action<string, string> error)
    {
        var sites = new List<DnsListSite>();
        if (section?.Dnsbl is { } list)
        {
            for (int i = 0; i < list.Count; i++)
            {
                string path = $"intake.dnsbl[{i}]";
                string zone = list[i]?.Zone?.Trim().ToLowerInvariant() ?? "";
                if (!HostName.IsValid(zone))
                {
                    error($"{path}.zone", $"\"{list[i]?.Zone}\" is not a DNS zone (zen.spamhaus.org)");
                    continue;
                }
                int weight = list[i]?.Weight ?? 1;
                if (weight is 0 or < -100 or > 100)
                {
                    error($"{path}.weight", $"{weight} must be from 1 to 100 (a block list) or from -1 to -100 (an allow list)");
                    continue;
                }
                sites.Add(new DnsListSite(zone, weight));
            }
        }
        int threshold = section?.DnsblThreshold ?? 3;
        if (threshold is < 1 or > 100)
        {
            error("intake.dnsblThreshold", $"{threshold} must be from 1 to 100");
        }
        TimeSpan wait = intake.PregreetWait;
        if (section?.PregreetWaitSeconds is { } seconds)
        {
            if (double.IsNaN(seconds) || seconds is < 1 or > 30)
            {
                error("intake.pregreetWaitSeconds", $"{seconds} must be from 1 to 30 seconds");
            }
            else
            {
                wait = TimeSpan.FromSeconds(Math.Round(seconds));
            }
        }
        string? proxy = section?.ProxyProtocol?.Trim().ToLowerInvariant();
        if (proxy is not (null or "haproxy"))
        {
            error("intake.proxyProtocol", $"\"{section?.ProxyProtocol}\": the only protocol postscreen speaks is \"haproxy\"");
        }
        // Note: no list keeps the default's (shared, empty) one, so a file without lists equals the default.
        return intake with { Dnsbl = sites.Count == 0 ? intake.Dnsbl : sites, DnsblThreshold = threshold, PregreetWait = wait, ProxyProtocol = proxy };
    }

    private static FilteringSettings ValidateFiltering(FilteringSection? section, string path, Action<string, string> error)
    {
        FilteringSettings d = FilteringSettings.Default;
        if (section is null)
        {
            return d;
        }
        double reject = section.RejectScore ?? d.RejectScore;
        double defer = section.DeferScore ?? Math.Min(d.DeferScore, reject);
        if (double.IsNaN(reject) || reject is <= 0 or > 1000)
        {
            error($"{path}.rejectScore", $"{reject.ToString(CultureInfo.InvariantCulture)} must be more than 0 and at most 1000");
        }
        if (double.IsNaN(defer) || defer <= 0 || defer > reject)
        {
            error($"{path}.deferScore", $"{defer.ToString(CultureInfo.InvariantCulture)} must be more than 0 and at most rejectScore ({reject.ToString(CultureInfo.InvariantCulture)})");
        }
        var zones = new List<string>();
        if (section.Dnsbl is { } list)
        {
            for (int i = 0; i < list.Count; i++)
            {
                string zone = list[i]?.Trim().ToLowerInvariant() ?? "";
                if (!HostName.IsValid(zone))
                {
                    error($"{path}.dnsbl[{i}]", $"\"{list[i]}\" is not a DNS zone (zen.spamhaus.org)");
                }
                else if (!zones.Contains(zone))
                {
                    zones.Add(zone);
                }
            }
        }
        return new FilteringSettings(reject, defer, section.HonourDmarcReject ?? d.HonourDmarcReject, zones);
    }
}
