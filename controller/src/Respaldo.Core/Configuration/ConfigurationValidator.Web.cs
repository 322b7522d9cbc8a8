namespace Respaldo.Configuration;

// web: Kestrel's endpoints, TLS, admins, sessions, API tokens, trusted proxies.
public static partial class ConfigurationValidator
{
    private static WebSettings ValidateWeb(WebSection? section, ConfigPath at)
    {
        var listen = new List<HostPort>();
        IReadOnlyList<string?> texts = section?.Listen ?? ["127.0.0.1:8080"];
        for (int i = 0; i < texts.Count; i++)
        {
            if (HostPort.TryParse(texts[i], null, out HostPort e, out string message))
            {
                listen.Add(e);
            }
            else
            {
                at.At("listen").At(i).Error(message);
            }
        }
        string? cert = OptionalAbsolutePath(section?.CertificateFile, at.At("certificateFile"));
        string? key = OptionalAbsolutePath(section?.KeyFile, at.At("keyFile"));
        if ((cert is null) != (key is null))
        {
            at.At(cert is null ? "certificateFile" : "keyFile").Error(
                "certificateFile and keyFile go together: give both to serve HTTPS, or neither");
        }
        IReadOnlyList<UserAccount> admins = Users(section?.Admins, at.At("admins"));
        TimeSpan session = TimeSpan.FromMinutes(30);
        if (section?.SessionMinutes is { } minutes)
        {
            if (double.IsNaN(minutes) || minutes < 1 || minutes > 7 * 24 * 60)
            {
                at.At("sessionMinutes").Error($"{minutes} must be from 1 to 10080 minutes");
            }
            else
            {
                session = TimeSpan.FromMinutes(minutes);
            }
        }
        IReadOnlyList<ApiToken> tokens = ApiTokens(section?.ApiTokens, at.At("apiTokens"));
        var proxies = new List<System.Net.IPNetwork>();
        IReadOnlyList<string?> proxyTexts = section?.TrustedProxies ?? [];
        for (int i = 0; i < proxyTexts.Count; i++)
        {
            if (TrustedProxy(proxyTexts[i]) is { } network)
            {
                proxies.Add(network);
            }
            else
            {
                at.At("trustedProxies").At(i).Error($"\"{proxyTexts[i]}\" must be an IP address (192.0.2.10, ::1) or a network (192.0.2.0/24)");
            }
        }
        bool allowPlain = section?.AllowPlainHttp ?? false;
        // Note: logins and session cookies must not cross a network in clear text. A non-loopback
        // endpoint needs TLS here (a certificate), TLS in front (a trusted reverse proxy that
        // terminates it), or the admin's explicit word (web.allowPlainHttp) that the network is safe.
        if (cert is null && proxies.Count == 0 && !allowPlain)
        {
            for (int i = 0; i < listen.Count; i++)
            {
                if (!IsLoopback(listen[i]))
                {
                    at.At("listen").At(i).Error($"\"{listen[i]}\" would serve logins in plain HTTP beyond this host: give web.certificateFile and web.keyFile, "
                        + "or web.trustedProxies (a reverse proxy that terminates TLS), or set web.allowPlainHttp to true");
                }
            }
        }
        return new WebSettings(listen, cert, key, admins) { SessionTimeout = session, ApiTokens = tokens, TrustedProxies = proxies, AllowPlainHttp = allowPlain };
    }

    /// <summary>An address (a network of one) or a network in CIDR form; null when it is neither.</summary>
    private static System.Net.IPNetwork? TrustedProxy(string? text)
    {
        string t = text?.Trim() ?? "";
        int slash = t.IndexOf('/', StringComparison.Ordinal);
        string addressText = slash < 0 ? t : t[..slash];
        // Note: IPAddress.TryParse also takes "10" (0.0.0.10) and scope ids; only the plain forms are meant.
        if (!System.Net.IPAddress.TryParse(addressText, out System.Net.IPAddress? address) || addressText.Contains('%', StringComparison.Ordinal)
            || (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? address.ToString() != addressText : !addressText.Contains(':', StringComparison.Ordinal)))
        {
            return null;
        }
        if (slash < 0)
        {
            return new System.Net.IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
        }
        // Note: a network with host bits set (192.0.2.1/24) is a typo, not a network.
        return System.Net.IPNetwork.TryParse(t, out System.Net.IPNetwork network) && network.BaseAddress.Equals(address) ? network : null;
    }
}
