namespace Respaldo.Configuration;

// tenants[].drill: the fire drill's address, schedule and patience.
public static partial class ConfigurationValidator
{
    /// <summary>Longest schedule: a week (the metric's staleness rule expects one at least that often).</summary>
    private const double DrillEveryMax = 7 * 86400;

    private static DrillSettings? ValidateDrill(DrillSection? d, ConfigPath at, Func<string, bool>? inDomains)
    {
        if (d is null)
        {
            return null;
        }
        if (string.IsNullOrWhiteSpace(d.Address))
        {
            at.At("address").Error("required: a mailbox of this tenant that the primary has (\"respaldo-drill@example.com\")");
            return null;
        }
        if (!MailAddress.TryNormalize(d.Address, out string address, out string message))
        {
            at.At("address").Error(message);
            return null;
        }
        if (inDomains is not null && !inDomains(address))
        {
            // Note: the drill must go in through the backup's own border for one of its own
            // domains, and out to the primary like any message of the tenant.
            at.At("address").Error($"\"{address}\" is not in this tenant's domains: a drill goes to a mailbox of the tenant that the primary has");
            return null;
        }
        TimeSpan every = TimeSpan.Zero;
        if (d.EverySeconds is { } e && e != 0)
        {
            if (double.IsNaN(e) || e < 60 || e > DrillEveryMax)
            {
                at.At("everySeconds").Error($"{e} must be from 60 to {DrillEveryMax} seconds, or 0 for drills only on demand");
                return null;
            }
            every = TimeSpan.FromSeconds(e);
        }
        TimeSpan timeout = DrillSettings.DefaultTimeout;
        if (d.TimeoutSeconds is { } t)
        {
            if (double.IsNaN(t) || t < 5 || t > 3600)
            {
                at.At("timeoutSeconds").Error($"{t} must be from 5 to 3600 seconds");
                return null;
            }
            timeout = TimeSpan.FromSeconds(t);
        }
        return new DrillSettings(address, every, timeout);
    }
}
