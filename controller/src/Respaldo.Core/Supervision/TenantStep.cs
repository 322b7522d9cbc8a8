using Respaldo.Configuration;
using Respaldo.Primary;

namespace Respaldo.Supervision;

/// <summary>What a tenant's loop can do next.</summary>
public enum StepKind
{
    /// <summary>Step 1: nothing waits; sleep until mail arrives (or <see cref="TenantStep.Until"/>, the front door's idle probe).</summary>
    Rest,

    /// <summary>Mail waits but none is due: every message is deferred until <see cref="TenantStep.Until"/>.</summary>
    WaitRetry,

    /// <summary>Step 2 while down: the next probe is scheduled for <see cref="TenantStep.Until"/>; new mail does not hurry it.</summary>
    WaitProbe,

    /// <summary>While the primary refused even the TCP connection: a free check of its port, every fast interval.</summary>
    CheckPort,

    /// <summary>A probe only (nothing waits: the front door's probe, or one asked for).</summary>
    Probe,

    /// <summary>Step 2, then step 3 if a host is up.</summary>
    ProbeThenHandOver,

    /// <summary>Step 3 to <see cref="TenantStep.Host"/>, which took mail moments ago (no probe needed).</summary>
    HandOver,
}

/// <summary>One decision: what to do, until when to wait, to which host to hand over.</summary>
public readonly record struct TenantStep(StepKind Kind, DateTimeOffset? Until = null, HostPort? Host = null);

/// <summary>
/// What the loop knows at the top of one turn. <c>Due</c> counts the messages to send now (all
/// of them for "hand over now"); <c>NextRetry</c> is when the first deferred one is due again.
/// </summary>
public sealed record TenantSnapshot(
    DateTimeOffset Now,
    int Waiting,
    int Due,
    DateTimeOffset? NextRetry,
    bool HandOverNow,
    bool ProbeRequested,
    DateTimeOffset? IdleProbe,
    PrimaryView Primary);

/// <summary>
/// The tenant loop's decision, pure: a snapshot and the fast probe interval in, one step out.
/// The loop does the step's I/O and asks again; every branch is unit-tested on a fake clock.
/// </summary>
public static class TenantSteps
{
    /// <summary>
    /// How long a wait step sleeps: until its <paramref name="until"/> (the next probe, port
    /// check, retry or idle probe), at most <paramref name="longest"/> (none due: the longest),
    /// never negative. The loop is woken sooner by whatever could make work due earlier.
    /// </summary>
    public static TimeSpan WaitFor(DateTimeOffset now, DateTimeOffset? until, TimeSpan longest)
    {
        if (until is not { } u)
        {
            return longest;
        }
        TimeSpan left = u - now;
        return left <= TimeSpan.Zero ? TimeSpan.Zero : left < longest ? left : longest;
    }

    public static TenantStep Next(TenantSnapshot s, TimeSpan probeInterval)
    {
        if (s.Waiting == 0)
        {
            // Step 1: nothing waits. No probe at all until something arrives, except one asked
            // for and the front door's slow probe for tenants that take mail only while their
            // primary is down.
            return s.ProbeRequested || (s.IdleProbe is { } at && s.Now >= at) ? new TenantStep(StepKind.Probe) : new TenantStep(StepKind.Rest, s.IdleProbe);
        }
        if (s.Due == 0)
        {
            return new TenantStep(StepKind.WaitRetry, s.NextRetry);
        }
        PrimaryView p = s.Primary;
        if (!s.HandOverNow && p.State.Status == PrimaryStatus.Down && s.Now < p.NextProbe)
        {
            // Note: while the primary refused even the TCP connection, its port is watched every
            // fast interval and the probe follows as soon as it opens: the back-off limits SMTP
            // sessions, not this free check, so the primary's return is noticed within seconds.
            if (p.RefusedConnections)
            {
                return s.Now >= p.NextPortCheck
                    ? new TenantStep(StepKind.CheckPort)
                    : new TenantStep(StepKind.WaitProbe, p.NextPortCheck < p.NextProbe ? p.NextPortCheck : p.NextProbe);
            }
            return new TenantStep(StepKind.WaitProbe, p.NextProbe);
        }
        HostPort? host = s.HandOverNow ? null : PrimaryTracker.RecentlyWorking(p, s.Now, probeInterval);
        return host is null ? new TenantStep(StepKind.ProbeThenHandOver) : new TenantStep(StepKind.HandOver, Host: host);
    }
}
