namespace Respaldo.Tests.Faults;

/// <summary>
/// One way a primary can misbehave, as the faulty primary stages it. The first group happens
/// before the primary says anything useful; the second breaks a session at a given step; the
/// last changes what the primary answers or how fast it speaks.
/// </summary>
public enum FaultKind
{
    /// <summary>Pass the session through untouched.</summary>
    None,

    /// <summary>Nothing listens: connect(2) fails with ECONNREFUSED (a phase of the proxy, not a session).</summary>
    RefuseConnections,

    /// <summary>Accept the connection and never say a word.</summary>
    SilentAccept,

    /// <summary>Greet with 421 (service not available) and hang up (RFC 5321 §3.8).</summary>
    Greet421,

    /// <summary>Greet with 554 (no SMTP service here) and answer 503 to everything but QUIT (RFC 5321 §3.1).</summary>
    Greet554,

    /// <summary>Accept the connection and close it before the greeting.</summary>
    DropBeforeGreeting,

    /// <summary>Forward MAIL FROM to the primary, then cut both connections before its reply.</summary>
    DropAfterMail,

    /// <summary>Forward RCPT TO to the primary, then cut both connections before its reply.</summary>
    DropAfterRcpt,

    /// <summary>Cut both connections in the middle of the message data (the primary never sees the final dot).</summary>
    DropMidData,

    /// <summary>Forward the whole message and the final dot, then cut the client off before the primary's reply reaches it.</summary>
    DropAfterDot,

    /// <summary>Stop forwarding in both directions, at a <see cref="FaultPoint"/>, for longer than any timeout.</summary>
    Stall,

    /// <summary>Answer 451, 452 or 421 in the primary's place at MAIL, RCPT or the end of data.</summary>
    TransientReply,

    /// <summary>Pass the session through a few bytes at a time, with pauses, in both directions.</summary>
    Trickle,

    /// <summary>
    /// Take the message data of one transaction at <see cref="FaultPlan.BytesPerSecond"/>, and no
    /// faster: a slow primary far away, or (very slow) a tarpit that reads just enough to dodge
    /// every write timeout.
    /// </summary>
    Throttle,
}

/// <summary>Where in a session a <see cref="FaultKind.Stall"/> or a <see cref="FaultKind.TransientReply"/> happens.</summary>
public enum FaultPoint
{
    Greeting,
    Mail,
    Rcpt,
    MidData,
    EndOfData,
}
