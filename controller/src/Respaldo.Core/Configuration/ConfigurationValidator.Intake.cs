namespace Respaldo.Configuration;

// intake: the policy socket, STARTTLS, and postscreen's lists.
public static partial class ConfigurationValidator
{
    /// <summary>sun_path holds 108 bytes with the terminating NUL (unix(7)).</summary>
    private const int MaxSocketPath = 107;

    private static IntakeSettings ValidateIntake(IntakeSection? section, ConfigPath at)
    {
        IntakeSettings d = IntakeSettings.Default;
        string socket = AbsolutePath(section?.PolicySocket, d.PolicySocket, at.At("policySocket"));
        if (System.Text.Encoding.UTF8.GetByteCount(socket) > MaxSocketPath)
        {
            at.At("policySocket").Error($"\"{socket}\" is longer than a unix socket path may be ({MaxSocketPath} bytes)");
        }
        else if (socket.Any(c => char.IsWhiteSpace(c) || c is ',' or '{' or '}'))
        {
            // Note: the path goes into main.cf's restriction list, where these characters separate items.
            at.At("policySocket").Error($"\"{socket}\" must not contain blanks, ',' or braces");
        }
        string? cert = OptionalAbsolutePath(section?.CertificateFile, at.At("certificateFile"));
        string? key = OptionalAbsolutePath(section?.KeyFile, at.At("keyFile"));
        if ((cert is null) != (key is null))
        {
            at.At(cert is null ? "certificateFile" : "keyFile").Error(
                "certificateFile and keyFile go together: give both to offer STARTTLS, or neither");
        }
        return new IntakeSettings(socket, cert, key);
    }

    private static IntakeSettings ValidatePostscreen(IntakeSection? section, IntakeSettings intake, ConfigPath at)
    {
        var sites = new List<DnsListSite>();
        if (section?.Dnsbl is { } list)
        {
            for (int i = 0; i < list.Count; i++)
            {
                ConfigPath entry = at.At("dnsbl").At(i);
                string zone = list[i]?.Zone?.Trim().ToLowerInvariant() ?? "";
                if (!HostName.IsValid(zone))
                {
                    entry.At("zone").Error($"\"{list[i]?.Zone}\" is not a DNS zone (zen.spamhaus.org)");
                    continue;
                }
                int weight = list[i]?.Weight ?? 1;
                if (weight is 0 or < -100 or > 100)
                {
                    entry.At("weight").Error($"{weight} must be from 1 to 100 (a block list) or from -1 to -100 (an allow list)");
                    continue;
                }
                sites.Add(new DnsListSite(zone, weight));
            }
        }
        int threshold = section?.DnsblThreshold ?? 3;
        if (threshold is < 1 or > 100)
        {
            at.At("dnsblThreshold").Error($"{threshold} must be from 1 to 100");
        }
        TimeSpan wait = intake.PregreetWait;
        if (section?.PregreetWaitSeconds is { } seconds)
        {
            if (double.IsNaN(seconds) || seconds is < 1 or > 30)
            {
                at.At("pregreetWaitSeconds").Error($"{seconds} must be from 1 to 30 seconds");
            }
            else
            {
                wait = TimeSpan.FromSeconds(Math.Round(seconds));
            }
        }
        string? proxy = section?.ProxyProtocol?.Trim().ToLowerInvariant();
        if (proxy is not (null or "haproxy"))
        {
            at.At("proxyProtocol").Error($"\"{section?.ProxyProtocol}\": the only protocol postscreen speaks is \"haproxy\"");
        }
        var addresses = new List<System.Net.IPAddress>();
        if (section?.PublicAddresses is { } given)
        {
            for (int i = 0; i < given.Count; i++)
            {
                // Note: the plain forms only, as for web.trustedProxies: IPAddress.TryParse also takes "10" and scope ids.
                if (TrustedProxy(given[i]) is { } one && !(given[i] ?? "").Contains('/', StringComparison.Ordinal))
                {
                    addresses.Add(one.BaseAddress);
                }
                else
                {
                    at.At("publicAddresses").At(i).Error($"\"{given[i]}\" is not an IP address (192.0.2.10 or 2001:db8::10)");
                }
            }
        }
        // Note: no list keeps the default's (shared, empty) one, so a file without lists equals the default.
        return intake with
        {
            Dnsbl = sites.Count == 0 ? intake.Dnsbl : sites,
            DnsblThreshold = threshold,
            PregreetWait = wait,
            ProxyProtocol = proxy,
            PublicAddresses = addresses.Count == 0 ? intake.PublicAddresses : addresses,
        };
    }
}
