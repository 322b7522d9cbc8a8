namespace Respaldo.Policy;

public enum PolicyOutcome
{
    /// <summary>No objection: Postfix goes on with its own restrictions (DUNNO).</summary>
    Continue,
    /// <summary>4xx: the sender keeps the message and tries again later; nothing is lost.</summary>
    Defer,
    /// <summary>5xx: refused at SMTP time, so the sender's own server tells the author (no backscatter from here).</summary>
    Reject,
}

/// <summary>
/// The policy service's answer, typed; <see cref="Action"/> is the line Postfix reads (access(5)
/// syntax). Note: Postfix puts "&lt;address&gt;: Recipient address rejected: " between the status
/// codes and <see cref="Text"/>'s words, so the text does not name the address again.
/// </summary>
public sealed record PolicyDecision(PolicyOutcome Outcome, int Code, string Text)
{
    public static PolicyDecision Continue { get; } = new(PolicyOutcome.Continue, 0, "");

    public static PolicyDecision Defer(int code, string text) => new(PolicyOutcome.Defer, code, text);

    public static PolicyDecision Reject(int code, string text) => new(PolicyOutcome.Reject, code, text);

    /// <summary>"DUNNO", or "450 4.7.1 text" (enhanced status code inside <see cref="Text"/>).</summary>
    public string Action => Outcome == PolicyOutcome.Continue ? "DUNNO" : $"{Code} {Text}";

    public override string ToString() => Action;

    // Note: the standard replies as named values, the way SmtpServer's SmtpResponse names its own.
    public static PolicyDecision StorageFull { get; } = Defer(452, "4.3.1 Insufficient system storage, please try again later");

    public static PolicyDecision NotReady { get; } = Defer(451, "4.3.0 Temporary failure in recipient checks, please try again later");
}
