namespace Respaldo.Primary;

/// <summary>
/// The front door's view of a tenant's primary: is it down (so the backup accepts mail), or up
/// (so senders are told to use it)? Unlike <see cref="PrimaryState"/>, which follows every probe,
/// this view has hysteresis, so that a flapping primary does not bounce senders between the two:
/// <list type="bullet">
/// <item>Up → Down after <c>downAfterFailures</c> consecutive failed probes (a hand-over that loses the
///   primary counts as one); while a failure streak runs, probes come at the fast interval.</item>
/// <item>Down → Up once the primary has answered every probe for at least <c>upAfter</c>
///   (a streak of successes, no failure in between).</item>
/// <item>Unknown (nothing probed yet): the first success says Up, <c>downAfterFailures</c> failures say Down.</item>
/// </list>
/// </summary>
public sealed record PrimaryAvailability(
    PrimaryStatus Verdict,
    DateTimeOffset? Since,
    DateTimeOffset? LastProbeAt,
    bool LastProbeUp,
    int FailureStreak,
    DateTimeOffset? SuccessStreakSince)
{
    public static PrimaryAvailability Unknown { get; } = new(PrimaryStatus.Unknown, null, null, false, 0, null);

    public PrimaryAvailability After(bool up, DateTimeOffset at, int downAfterFailures, TimeSpan upAfter)
    {
        if (up)
        {
            DateTimeOffset streak = LastProbeUp && SuccessStreakSince is { } s ? s : at;
            PrimaryStatus verdict = Verdict switch
            {
                PrimaryStatus.Down => at - streak >= upAfter ? PrimaryStatus.Up : PrimaryStatus.Down,
                _ => PrimaryStatus.Up,
            };
            return new PrimaryAvailability(verdict, verdict == Verdict ? Since : at, at, true, 0, streak);
        }
        int failures = FailureStreak + 1;
        PrimaryStatus next = Verdict == PrimaryStatus.Down || failures >= downAfterFailures ? PrimaryStatus.Down : Verdict;
        return new PrimaryAvailability(next, next == Verdict ? Since : at, at, false, failures, null);
    }

    /// <summary>
    /// When to probe next while no mail waits: at once if never probed; at the fast interval while
    /// an outage is being confirmed; no later than the end of <paramref name="upAfter"/> while a
    /// return is being confirmed; otherwise at the idle interval.
    /// </summary>
    public DateTimeOffset NextIdleProbe(TimeSpan fast, TimeSpan idle, TimeSpan upAfter)
    {
        if (LastProbeAt is not { } last)
        {
            return DateTimeOffset.MinValue;
        }
        if (Verdict == PrimaryStatus.Unknown || (!LastProbeUp && Verdict != PrimaryStatus.Down))
        {
            return last + fast;
        }
        if (Verdict == PrimaryStatus.Down && LastProbeUp && SuccessStreakSince is { } streak)
        {
            TimeSpan left = streak + upAfter - last;
            return last + (left < fast ? fast : left > idle ? idle : left);
        }
        return last + idle;
    }

    /// <summary>Replays recorded probes (oldest first) into a view, as after a restart.</summary>
    public static PrimaryAvailability Replay(IEnumerable<(DateTimeOffset At, bool Up)> probes, int downAfterFailures, TimeSpan upAfter)
    {
        PrimaryAvailability view = Unknown;
        foreach ((DateTimeOffset at, bool up) in probes)
        {
            view = view.After(up, at, downAfterFailures, upAfter);
        }
        return view;
    }
}

/// <summary>What the primary said about SIZE (RFC 1870) at its last successful probe: <c>Known</c> false when never probed up, <c>MaxSize</c> null for "no fixed limit".</summary>
public sealed record AdvertisedSize(bool Known, long? MaxSize)
{
    public static AdvertisedSize NeverProbed { get; } = new(false, null);
}
