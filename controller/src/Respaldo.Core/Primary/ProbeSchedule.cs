namespace Respaldo.Primary;

/// <summary>
/// How long to wait before the next probe while mail waits and the primary is down: the
/// first interval, growing by half after each failure up to the ceiling. Postfix's own queue
/// waits 300 to 4,000 s and the customer's plan 30 minutes; a few seconds here is what lets
/// mail move within seconds of the primary's return.
/// </summary>
public static class ProbeSchedule
{
    public static TimeSpan Next(int consecutiveFailures, TimeSpan first, TimeSpan ceiling)
    {
        if (consecutiveFailures <= 1)
        {
            return first;
        }
        double factor = Math.Pow(1.5, Math.Min(consecutiveFailures - 1, 60));
        double seconds = Math.Min(first.TotalSeconds * factor, ceiling.TotalSeconds);
        return TimeSpan.FromSeconds(seconds);
    }
}
