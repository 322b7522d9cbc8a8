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

    // Note: standard replies as named values, the way SmtpServer spells them.
    public static SmtpReply Ok { get; } = new(250, "250 2.0.0 Ok");
}
