using System.Text.RegularExpressions;

namespace Respaldo.Configuration;

// filter: rspamd's milter, ARC signing, timeouts.
public static partial class ConfigurationValidator
{
    /// <summary>A DKIM selector is one DNS label (RFC 6376 §3.1).</summary>
    [GeneratedRegex(@"\A[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\z", RegexOptions.CultureInvariant)]
    private static partial Regex DnsLabel();

    private static FilterSettings ValidateFilter(FilterSection? section, string hostname, ConfigPath at)
    {
        FilterSettings d = FilterSettings.Default(hostname);
        HostPort milter = section?.Milter is null ? d.Milter
            : LoopbackEndpoint(section.Milter, d.Milter.ToString(), at.At("milter"));
        if (milter.Port == 0)
        {
            at.At("milter").Error("a port is required (\"127.0.0.1:11339\")");
        }
        string selector = section?.ArcSelector?.Trim().ToLowerInvariant() ?? d.ArcSelector;
        if (!DnsLabel().IsMatch(selector))
        {
            at.At("arcSelector").Error($"\"{section?.ArcSelector}\" must be one DNS label (letters, digits, '-')");
        }
        string arcDomain = section?.ArcDomain?.Trim().ToLowerInvariant() ?? hostname;
        if (section?.ArcDomain is not null && !HostName.IsValid(arcDomain))
        {
            at.At("arcDomain").Error($"\"{section.ArcDomain}\" is not a valid domain name");
        }
        TimeSpan timeout = d.Timeout;
        if (section?.TimeoutSeconds is { } seconds)
        {
            if (double.IsNaN(seconds) || seconds is < 1 or > 600)
            {
                at.At("timeoutSeconds").Error($"{seconds} must be from 1 to 600 seconds");
            }
            else
            {
                timeout = TimeSpan.FromSeconds(seconds);
            }
        }
        HostPort? scan = section?.ScanListen is null ? null
            : LoopbackEndpoint(section.ScanListen, "127.0.0.1:11334", at.At("scanListen"));
        return new FilterSettings(
            section?.Enabled ?? true,
            milter,
            AbsolutePath(section?.WorkDirectory, d.WorkDirectory, at.At("workDirectory")),
            OptionalAbsolutePath(section?.LogFile, at.At("logFile")),
            selector,
            arcDomain,
            timeout)
        {
            ScanListen = scan,
            HostnameChecks = section?.HostnameChecks ?? true,
        };
    }
}
