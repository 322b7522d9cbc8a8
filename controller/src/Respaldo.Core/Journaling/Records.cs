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

/// <summary>One row of table holds: a message moved to the hold area, why, and what became of it (held, released, bounced).</summary>
public sealed record HoldRow(
    long Id, string TenantId, DateTimeOffset At, string Mailbox, string Message, long Size, string? Sender, string? Recipient,
    string Path, string Reason, int? Code, string State);

/// <summary>An alert as recorded: what was said, and each channel's state (none | pending | sent | failed).</summary>
public sealed record AlertRecord(
    string Key, DateTimeOffset At, string TenantId, string Kind, string Subject, string Body, string Payload, string EmailState, string WebhookState);

/// <summary>One row of table probes, as the dashboard lists it.</summary>
public sealed record ProbeRow(long Id, DateTimeOffset At, string Host, bool Up, string Stage, int? Code, string Reply, double LatencyMs, bool Tls);

/// <summary>One row of table handovers, as the dashboard lists it.</summary>
public sealed record HandOverRow(
    long Id, DateTimeOffset At, string Mailbox, string Message, long Size, string? Sender, string? Recipient, string Host,
    string Outcome, int? Code, string Reply, int Attempt, double DurationMs);

/// <summary>One row of table alerts, as the dashboard lists it (each channel's state and attempts).</summary>
public sealed record AlertRow(
    long Id, DateTimeOffset At, string Kind, string Subject, string EmailState, int EmailAttempts, string? EmailError,
    string WebhookState, int WebhookAttempts, string? WebhookError);

/// <summary>An alert a channel still has to deliver (after a restart): what it says, and each channel's state.</summary>
public sealed record PendingAlert(
    string Key, string TenantId, string Kind, DateTimeOffset At, string Subject, string Body, string Payload, string EmailState, string WebhookState);

/// <summary>Probe counts per outcome and total latency, for /metrics counters.</summary>
public sealed record ProbeTotals(long Up, long Down, double LatencySecondsSum);
