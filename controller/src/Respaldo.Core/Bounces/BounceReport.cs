namespace Respaldo.Bounces;

/// <summary>
/// What a delivery status notification says about one held message: who sent it, to whom it
/// could not be delivered, which server refused it and why. The sender and recipient come from
/// the hold record (the envelope, never To:/Cc:).
/// </summary>
public sealed record BounceReport(
    string Sender,
    string Recipient,
    string ReportingHost,
    string? RemoteHost,
    int? Code,
    string Reason,
    DateTimeOffset ArrivedAt,
    DateTimeOffset HeldAt);
