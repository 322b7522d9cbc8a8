using Respaldo.Smtp;

namespace Respaldo.Primary;

/// <summary>What Respaldo believes about one tenant's primary, from its latest probes and hand-overs.</summary>
public sealed record PrimaryState(
    PrimaryStatus Status,
    DateTimeOffset? Since,
    ProbeResult? LastProbe,
    int ConsecutiveFailures,
    SmtpCapabilities? LastCapabilities)
{
    public static PrimaryState Unknown { get; } = new(PrimaryStatus.Unknown, null, null, 0, null);

    public PrimaryState After(ProbeResult probe)
    {
        PrimaryStatus status = probe.Up ? PrimaryStatus.Up : PrimaryStatus.Down;
        return new PrimaryState(
            status,
            status == Status ? Since : probe.At,
            probe,
            probe.Up ? 0 : ConsecutiveFailures + 1,
            probe.Up ? probe.Capabilities : LastCapabilities);
    }

    /// <summary>A hand-over lost the primary mid-way (refused connections, 421): down from now.</summary>
    public PrimaryState Lost(DateTimeOffset at) =>
        this with { Status = PrimaryStatus.Down, Since = Status == PrimaryStatus.Down ? Since : at, ConsecutiveFailures = Math.Max(1, ConsecutiveFailures) };
}

public enum PrimaryStatus
{
    Unknown,
    Up,
    Down,
}
