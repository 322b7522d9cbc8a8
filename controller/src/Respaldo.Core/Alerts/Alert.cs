using Respaldo.Events;

namespace Respaldo.Alerts;

/// <summary>What an alert is about. The wire name (webhook "kind", journal, mail header) is stable.</summary>
public enum AlertKind
{
    /// <summary>The first message of an outage reached the backup.</summary>
    FirstArrival,
    /// <summary>More mail arrived since the last arrival alert: counts per mailbox.</summary>
    ArrivalDigest,
    /// <summary>The primary stopped accepting mail.</summary>
    PrimaryDown,
    /// <summary>The primary accepts mail again; how much was handed over and how fast.</summary>
    PrimaryBack,
    /// <summary>The primary refused a message for good (5xx), or it cannot go as it is: it is held.</summary>
    MessageHeld,
    /// <summary>Storage used passed 80 % of the allocation.</summary>
    StorageWarning,
    /// <summary>Storage used passed 95 % of the allocation, or the disk is below its free-space floor.</summary>
    StorageCritical,
    /// <summary>A set-up check is failing (a new fault at once, then once a day while any stays failing).</summary>
    SetupFailing,
    /// <summary>A fire drill failed (at once, then once a day while drills keep failing); a passed drill clears it.</summary>
    DrillFailing,
}

public static class AlertKinds
{
    public static string WireName(this AlertKind kind) => kind switch
    {
        AlertKind.FirstArrival => "first-arrival",
        AlertKind.ArrivalDigest => "arrival-digest",
        AlertKind.PrimaryDown => "primary-down",
        AlertKind.PrimaryBack => "primary-back",
        AlertKind.MessageHeld => "message-held",
        AlertKind.StorageWarning => "storage-warning",
        AlertKind.StorageCritical => "storage-critical",
        AlertKind.SetupFailing => "setup-failing",
        AlertKind.DrillFailing => "drill-failing",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}

/// <summary>Messages and bytes for one mailbox in an arrival alert.</summary>
public sealed record MailboxCount(string Mailbox, int Count, long Bytes);

/// <summary>A held message in a held-message alert (never its content).</summary>
public sealed record HeldMessage(string Mailbox, string Message, string? Sender, string Reason);

/// <summary>
/// One alert, as decided by <see cref="AlertPolicy"/>: plain facts, no wording. The text of
/// the mail and the webhook's JSON are made from it by <see cref="AlertComposer"/>.
/// </summary>
public sealed record Alert(string Key, string TenantId, AlertKind Kind, DateTimeOffset At)
{
    public IReadOnlyList<MailboxCount> Mailboxes { get; init; } = [];
    public IReadOnlyList<HeldMessage> Held { get; init; } = [];
    public string? Host { get; init; }
    public string? Reason { get; init; }
    public DateTimeOffset? DownSince { get; init; }
    public int? HandedOver { get; init; }
    public int? StillWaiting { get; init; }
    public double? Seconds { get; init; }
    public double? StoragePercent { get; init; }
    public long? StorageUsed { get; init; }
    public long? StorageLimit { get; init; }
    public long? DiskFree { get; init; }
    public IReadOnlyList<FailingSetupCheck> SetupChecks { get; init; } = [];
    public DrillFinished? Drill { get; init; }

    public int MessageCount => Mailboxes.Sum(m => m.Count);
}
