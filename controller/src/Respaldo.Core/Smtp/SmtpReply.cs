namespace Respaldo.Smtp;

/// <summary>One SMTP reply (RFC 5321 §4.2): a three-digit code and its text lines.</summary>
public sealed record SmtpReply(int Code, string Text)
{
    public bool IsPositive => Code is >= 200 and < 400;
    public bool IsTransient => Code is >= 400 and < 500;
    public bool IsPermanent => Code is >= 500 and < 600;

    /// <summary>The text on one line, for logs and the journal (multi-line replies joined with " / ").</summary>
    public string OneLine => Text.Replace("\r", "", StringComparison.Ordinal).Replace("\n", " / ", StringComparison.Ordinal);

    public override string ToString() => OneLine;

    /// <summary>220: the greeting, or go ahead with TLS.</summary>
    public bool IsServiceReady => Code == SmtpCode.ServiceReady;

    /// <summary>250: done.</summary>
    public bool IsOk => Code == SmtpCode.Ok;

    /// <summary>250 or 251 (will forward): a recipient accepted.</summary>
    public bool IsRecipientAccepted => Code is SmtpCode.Ok or SmtpCode.WillForward;

    /// <summary>354: send the message data.</summary>
    public bool IsStartMailInput => Code == SmtpCode.StartMailInput;

    /// <summary>421: the server is closing the connection (at any stage).</summary>
    public bool IsServiceClosing => Code == SmtpCode.ServiceClosing;

    // Note: standard replies as named values, the way SmtpServer spells them.
    public static SmtpReply Ok { get; } = new(SmtpCode.Ok, "250 2.0.0 Ok");
}

/// <summary>The reply codes the client acts on by name (RFC 5321 §4.2.2, §4.2.3), instead of bare numbers.</summary>
public static class SmtpCode
{
    public const int ServiceReady = 220;
    public const int Ok = 250;
    public const int WillForward = 251;
    public const int StartMailInput = 354;
    public const int ServiceClosing = 421;
}
