namespace Respaldo.Drills;

/// <summary>When a tenant's scheduled drill is due (pure).</summary>
public static class DrillSchedule
{
    /// <summary>
    /// The first due time after a start (or after the schedule was turned on): one interval after
    /// the tenant's last drill (the journal's), but not sooner than <paramref name="soonest"/> from
    /// now; with no drill yet, one interval from now.
    /// </summary>
    /// <remarks>Note: from the journal, not from the start: a daemon restarted more often than its interval would otherwise never drill.</remarks>
    public static DateTimeOffset FirstDue(DateTimeOffset now, DateTimeOffset? lastDrill, TimeSpan every, TimeSpan soonest)
    {
        if (lastDrill is not { } last)
        {
            return now + every;
        }
        DateTimeOffset due = last + every;
        if (due > now + every)
        {
            // Note: a clock set back, or a drill "from the future": never wait more than one interval.
            return now + every;
        }
        return due < now + soonest ? now + soonest : due;
    }
}
