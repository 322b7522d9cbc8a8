using System.Globalization;

namespace Respaldo.Configuration;

// tenants[].filtering: the tenant's spam scores and DNS lists.
public static partial class ConfigurationValidator
{
    private static FilteringSettings ValidateFiltering(FilteringSection? section, ConfigPath at)
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
            at.At("rejectScore").Error($"{reject.ToString(CultureInfo.InvariantCulture)} must be more than 0 and at most 1000");
        }
        if (double.IsNaN(defer) || defer <= 0 || defer > reject)
        {
            at.At("deferScore").Error($"{defer.ToString(CultureInfo.InvariantCulture)} must be more than 0 and at most rejectScore ({reject.ToString(CultureInfo.InvariantCulture)})");
        }
        var zones = new List<string>();
        if (section.Dnsbl is { } list)
        {
            for (int i = 0; i < list.Count; i++)
            {
                string zone = list[i]?.Trim().ToLowerInvariant() ?? "";
                if (!HostName.IsValid(zone))
                {
                    at.At("dnsbl").At(i).Error($"\"{list[i]}\" is not a DNS zone (zen.spamhaus.org)");
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
