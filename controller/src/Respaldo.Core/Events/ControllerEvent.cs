using Respaldo.Mailboxes;

namespace Respaldo.Events;

/// <summary>Something an operator may want to hear about: alerts, D-Bus signals and the dashboard listen to these.</summary>
public abstract record ControllerEvent(string TenantId, DateTimeOffset At);

/// <summary>A message was stored at the backup (first seen by the watcher).</summary>
public sealed record MessageArrived(string TenantId, DateTimeOffset At, WaitingMessage Message) : ControllerEvent(TenantId, At);

/// <summary>The primary stopped accepting mail (first failed probe after "up", or lost mid hand-over).</summary>
public sealed record PrimaryWentDown(string TenantId, DateTimeOffset At, string Host, string Reason) : ControllerEvent(TenantId, At);

/// <summary>The primary accepts mail again.</summary>
public sealed record PrimaryCameUp(string TenantId, DateTimeOffset At, string Host, DateTimeOffset? DownSince) : ControllerEvent(TenantId, At);

/// <summary>A hand-over run ended.</summary>
public sealed record HandOverFinished(string TenantId, DateTimeOffset At, HandOverProgress Progress) : ControllerEvent(TenantId, At);

/// <summary>
/// One message's attempt ended with the primary's answer (delivered, deferred or held): how long it
/// took from MAIL FROM to the last reply, and its size. /metrics turns these into histograms.
/// </summary>
public sealed record MessageAttempted(string TenantId, DateTimeOffset At, string Outcome, long Bytes, TimeSpan Duration) : ControllerEvent(TenantId, At);

/// <summary>
/// One message's attempt at the primary is settled: delivered (after its 250 was journaled),
/// deferred or held, with the primary's reply (or the reason when there was none). Fire drills
/// follow their own message by it; it names the copy, never its content.
/// </summary>
public sealed record MessageSettled(string TenantId, DateTimeOffset At, string Mailbox, string BaseName, string Outcome, int? Code, string Reply)
    : ControllerEvent(TenantId, At);

/// <summary>
/// A fire drill of the tenant ended (README "Fire drills"): its id, the address it went to,
/// whether it passed, and else the step that failed and why.
/// </summary>
public sealed record DrillFinished(string TenantId, DateTimeOffset At, string Drill, string Address, bool Passed, string Step, string Reason)
    : ControllerEvent(TenantId, At);

/// <summary>A set-up check of the tenant ended (README "Set-up check"): what is failing, empty when nothing is.</summary>
public sealed record SetupChecked(string TenantId, DateTimeOffset At, IReadOnlyList<FailingSetupCheck> Failing) : ControllerEvent(TenantId, At);

/// <summary>One failing set-up check in a <see cref="SetupChecked"/>: its id, subject, what was seen and the fix.</summary>
public sealed record FailingSetupCheck(string Check, string Subject, string Seen, string Fix)
{
    /// <summary>The check and subject: the same fault from one run to the next.</summary>
    public string Key => $"{Check} {Subject}";
}

/// <summary>The primary refused a message for good, or it cannot go as it is: it is in the hold area.</summary>
public sealed record MessageHeld(string TenantId, DateTimeOffset At, WaitingMessage Message, string HeldPath, string Reason) : ControllerEvent(TenantId, At);

/// <summary>Fan-out of <see cref="ControllerEvent"/>s. Listeners must be quick and must not throw: they run on the controller's path.</summary>
public sealed class ControllerEvents
{
    public event Action<ControllerEvent>? Raised;

    public void Raise(ControllerEvent e) => Raised?.Invoke(e);
}
