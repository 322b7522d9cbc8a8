namespace Respaldo.Smtp;

/// <summary>
/// The session with the server cannot go on: it refused a step that every message needs
/// (greeting, EHLO, STARTTLS), or the connection broke or stalled. Carries the stage and,
/// when there was one, the reply.
/// </summary>
public sealed class SmtpSessionException : Exception
{
    public SmtpSessionException(SmtpStage stage, string message, SmtpReply? reply = null, Exception? inner = null)
        : base($"{stage}: {message}", inner)
    {
        Stage = stage;
        Reply = reply;
    }

    public SmtpSessionException() : this(SmtpStage.Connect, "") { }

    public SmtpSessionException(string message) : this(SmtpStage.Connect, message) { }

    public SmtpSessionException(string message, Exception inner) : this(SmtpStage.Connect, message, null, inner) { }

    public SmtpStage Stage { get; }

    public SmtpReply? Reply { get; }

    /// <summary>True when the server said "go away for now" (4xx) rather than a definite no.</summary>
    public bool IsTransient => Reply is null || Reply.IsTransient;
}
