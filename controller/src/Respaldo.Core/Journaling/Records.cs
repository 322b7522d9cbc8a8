namespace Respaldo.Journaling;

/// <summary>One connection attempt to a primary: the dashboard's "connection attempts".</summary>
public sealed record ProbeRecord(
    DateTimeOffset At, string TenantId, string Host, bool Up, string Stage, int? Code, string Reply, double LatencyMs, bool Tls, long? MaxSize);

/// <summary>One attempt to hand a copy over, whatever its outcome.</summary>
public sealed record HandOverRecord(
    string TenantId,
    string Mailbox,
    string Message,
    long Size,
    string? Sender,
    string? Recipient,
    string Host,
    string Outcome,
    string Stage,
    int? Code,
    string Reply,
    int Attempt,
    double DurationMs);

/// <summary>A copy moved to the hold area, and why.</summary>
public sealed record HoldRecord(
    string TenantId, string Mailbox, string Message, long Size, string? Sender, string? Recipient, string Path, string Reason, int? Code);

/// <summary>An alert as recorded: what was said, and each channel's state (none | pending | sent | failed).</summary>
public sealed record AlertRecord(
    string Key, DateTimeOffset At, string TenantId, string Kind, string Subject, string Body, string Payload, string EmailState, string WebhookState);
