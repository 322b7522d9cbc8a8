using System.Globalization;

namespace Respaldo.Tests.Faults;

/// <summary>
/// What the faulty primary does to one connection. Faults at MAIL, RCPT and in the data apply
/// to the <see cref="Transaction"/>-th message of the session (0 = the first); a session that
/// ends earlier (a probe says EHLO and QUIT) never triggers them.
/// </summary>
/// <param name="Code">The reply of a <see cref="FaultKind.TransientReply"/>: 451, 452 or 421.</param>
/// <param name="DataBytes">For faults in the data: how many bytes of it reach the primary first.</param>
/// <param name="TrickleFor">For <see cref="FaultKind.Trickle"/>: how long the session crawls before it runs at full speed.</param>
/// <param name="BytesPerSecond">For <see cref="FaultKind.Throttle"/>: how fast the primary takes the message data.</param>
public sealed record FaultPlan(
    FaultKind Kind,
    FaultPoint Point = FaultPoint.Greeting,
    int Transaction = 0,
    int Code = 0,
    int DataBytes = 0,
    TimeSpan TrickleFor = default,
    int BytesPerSecond = 0)
{
    public static FaultPlan Pass { get; } = new(FaultKind.None);

    /// <summary>A short name for tables and the ledger: "stall at EndOfData", "452 at Rcpt".</summary>
    public string Label => Kind switch
    {
        FaultKind.Stall => $"stall at {Point}",
        FaultKind.TransientReply => string.Create(CultureInfo.InvariantCulture, $"{Code} at {Point}"),
        FaultKind.Throttle => string.Create(CultureInfo.InvariantCulture, $"throttle at {BytesPerSecond} B/s"),
        _ => Kind.ToString(),
    };

    public override string ToString() => Transaction > 0 ? $"{Label} (message {Transaction + 1} of the session)" : Label;
}
