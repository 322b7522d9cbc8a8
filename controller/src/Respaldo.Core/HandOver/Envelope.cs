namespace Respaldo.HandOver;

/// <summary>
/// The SMTP envelope of a stored copy: the sender (empty for the null sender of bounces)
/// and its one recipient. It comes from the trace headers the backup's own delivery wrote,
/// never from To:/Cc: (docs/ARCHITECTURE.md, "The hand-over").
/// </summary>
public sealed record Envelope(string Sender, string Recipient)
{
    /// <summary>RFC 6531: an address with non-ASCII characters needs the SMTPUTF8 extension.</summary>
    public bool NeedsSmtpUtf8 => !System.Text.Ascii.IsValid(Sender) || !System.Text.Ascii.IsValid(Recipient);
}
