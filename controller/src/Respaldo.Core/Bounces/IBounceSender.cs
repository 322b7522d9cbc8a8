using MimeKit;

namespace Respaldo.Bounces;

/// <summary>
/// Sends a bounce out through the backup's own Postfix with the null reverse-path (MAIL FROM:&lt;&gt;,
/// RFC 3464 §2), never through the primary (<see cref="SubmissionBounceSender"/>).
/// </summary>
public interface IBounceSender
{
    /// <summary>True when bounces can be sent at all (a submission path is configured).</summary>
    bool IsAvailable { get; }

    /// <summary>Submits <paramref name="dsn"/> to <paramref name="recipient"/>; throws <see cref="BounceNotSentException"/> on failure.</summary>
    Task SendAsync(string recipient, MimeMessage dsn, CancellationToken cancellationToken);
}

/// <summary>The bounce could not be handed to the local Postfix; the message stays held.</summary>
public sealed class BounceNotSentException : Exception
{
    public BounceNotSentException() { }

    public BounceNotSentException(string message) : base(message) { }

    public BounceNotSentException(string message, Exception inner) : base(message, inner) { }
}
