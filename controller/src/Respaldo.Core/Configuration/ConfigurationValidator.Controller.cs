namespace Respaldo.Configuration;

// controller: the tenant loops' timings, the callout limits and the node's hand-over connections.
public static partial class ConfigurationValidator
{
    private static ControllerSettings ValidateController(ControllerSection? section, ConfigPath at)
    {
        ControllerSettings d = ControllerSettings.Default;
        TimeSpan Seconds(double? value, TimeSpan fallback, double min, double max, string name)
        {
            if (value is null)
            {
                return fallback;
            }
            if (double.IsNaN(value.Value) || value < min || value > max)
            {
                at.At(name).Error($"{value} must be from {min} to {max} seconds");
                return fallback;
            }
            return TimeSpan.FromSeconds(value.Value);
        }
        TimeSpan probe = Seconds(section?.ProbeIntervalSeconds, d.ProbeInterval, 0.1, 3600, "probeIntervalSeconds");
        TimeSpan probeMax = Seconds(section?.ProbeIntervalMaxSeconds, d.ProbeIntervalMax, 0.1, 86400, "probeIntervalMaxSeconds");
        if (probeMax < probe)
        {
            at.At("probeIntervalMaxSeconds").Error("must not be less than probeIntervalSeconds");
        }
        int downAfter = section?.DownAfterFailures ?? d.DownAfterFailures;
        if (downAfter is < 1 or > 100)
        {
            at.At("downAfterFailures").Error($"{downAfter} must be from 1 to 100");
            downAfter = d.DownAfterFailures;
        }
        int perMinute = section?.CalloutsPerClientPerMinute ?? d.CalloutsPerClientPerMinute;
        if (perMinute is < 1 or > 10_000)
        {
            at.At("calloutsPerClientPerMinute").Error($"{perMinute} must be from 1 to 10000");
            perMinute = d.CalloutsPerClientPerMinute;
        }
        int perHour = section?.CalloutsPerClientPerHour ?? Math.Max(d.CalloutsPerClientPerHour, perMinute);
        if (perHour < perMinute || perHour > 100_000)
        {
            at.At("calloutsPerClientPerHour").Error($"{perHour} must be from calloutsPerClientPerMinute ({perMinute}) to 100000");
            perHour = Math.Max(d.CalloutsPerClientPerHour, perMinute);
        }
        long rate = Size(section?.MinimumDataRate, d.MinimumDataRate, at.At("minimumDataRate"));
        if (rate < 100)
        {
            // Note: the deadline of a message grows by its size divided by this: 0 would mean no deadline at all.
            at.At("minimumDataRate").Error($"{rate} must be at least 100 (bytes per second)");
            rate = d.MinimumDataRate;
        }
        int maxConnections = section?.MaxConnections ?? d.MaxConnections;
        if (maxConnections is < 1 or > 10_000)
        {
            at.At("maxConnections").Error($"{maxConnections} must be from 1 to 10000");
            maxConnections = d.MaxConnections;
        }
        return new ControllerSettings(
            probe,
            probeMax,
            Seconds(section?.RescanIntervalSeconds, d.RescanInterval, 1, 86400, "rescanIntervalSeconds"),
            Seconds(section?.CommandTimeoutSeconds, d.CommandTimeout, 0.1, 600, "commandTimeoutSeconds"),
            Seconds(section?.DataTimeoutSeconds, d.DataTimeout, 0.1, 3600, "dataTimeoutSeconds"),
            Seconds(section?.RetryMaxSeconds, d.RetryMax, 1, 86400, "retryMaxSeconds"))
        {
            IdleProbeInterval = Seconds(section?.IdleProbeIntervalSeconds, d.IdleProbeInterval, 0.1, 86400, "idleProbeIntervalSeconds"),
            DownAfterFailures = downAfter,
            UpAfter = Seconds(section?.UpAfterSeconds, d.UpAfter, 0, 86400, "upAfterSeconds"),
            // Note: a callout runs while Postfix waits for the policy answer (smtpd_policy_service_timeout, 100 s).
            CalloutTimeout = Seconds(section?.CalloutTimeoutSeconds, d.CalloutTimeout, 0.1, 30, "calloutTimeoutSeconds"),
            CalloutsPerClientPerMinute = perMinute,
            CalloutsPerClientPerHour = perHour,
            MinimumDataRate = rate,
            MaxConnections = maxConnections,
            SetupCheckInterval = section?.SetupCheckIntervalSeconds == 0
                ? TimeSpan.Zero
                : Seconds(section?.SetupCheckIntervalSeconds, d.SetupCheckInterval, 60, 7 * 86400, "setupCheckIntervalSeconds"),
        };
    }
}
