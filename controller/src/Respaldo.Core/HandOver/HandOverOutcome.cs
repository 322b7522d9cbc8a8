using Respaldo.Smtp;

namespace Respaldo.HandOver;

/// <summary>What became of one attempt to hand a message over.</summary>
public enum HandOverOutcome
{
    /// <summary>The primary answered 250 to the end of the data: record it, then delete the copy.</summary>
    Delivered,
    /// <summary>4xx, timeout or a broken connection: the copy stays and is tried again later.</summary>
    Deferred,
    /// <summary>5xx, or it cannot go as it is: moved to the hold area with the reason, and an alert.</summary>
    Held,
    /// <summary>The file was gone before it was sent (handed over by an earlier run, or released by an admin).</summary>
    Vanished,
    /// <summary>Not a message at all (a FIFO, a directory, a symlink...): never read, left where it is, reported once.</summary>
    NotAMessage,
}

/// <summary>The result of one attempt, with the primary's reply when there was one.</summary>
public sealed record HandOverResult(HandOverOutcome Outcome, SmtpStage Stage, SmtpReply? Reply, string Reason)
{
    /// <summary>True when the session cannot be used for another message (the connection broke, or 421).</summary>
    public bool SessionLost { get; init; }

    /// <summary>The primary said 421 (RFC 5321 §3.8): it is closing; back off the whole tenant.</summary>
    public bool ServiceClosing => Reply?.IsServiceClosing == true;

    public static HandOverResult Delivered(SmtpReply reply) => new(HandOverOutcome.Delivered, SmtpStage.EndOfData, reply, reply.OneLine);

    public static HandOverResult Vanished { get; } = new(HandOverOutcome.Vanished, SmtpStage.Connect, null, "the file is gone");

    /// <summary>What is at the message's name is <paramref name="what"/> ("a FIFO", ...), not a message.</summary>
    public static HandOverResult NotAMessage(string what) => new(HandOverOutcome.NotAMessage, SmtpStage.Connect, null, what);
}
