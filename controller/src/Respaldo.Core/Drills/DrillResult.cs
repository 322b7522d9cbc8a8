namespace Respaldo.Drills;

/// <summary>How a fire drill ended.</summary>
public enum DrillOutcome
{
    /// <summary>The primary answered 250 for the drill's message: the whole path works.</summary>
    Passed,
    /// <summary>A step failed or did not come in time; <see cref="DrillResult.Reason"/> says which and why.</summary>
    Failed,
}

/// <summary>
/// One fire drill: its id (the X-Respaldo-Drill header), the mailbox it went to, and the four
/// timings it reached: accepted (the backup's intake said 250 to the data), stored (the maildir
/// file's time), seen (the watcher saw it), handed over (the primary's 250, journaled).
/// <see cref="Step"/> names the step that failed: intake, store, watcher, primary-down, primary
/// (deferred or refused) or hand-over (no answer in time); empty when passed.
/// </summary>
public sealed record DrillResult(
    string Id,
    string TenantId,
    string Address,
    DateTimeOffset Started,
    DrillOutcome Outcome,
    string Step,
    string Reason,
    DateTimeOffset? Accepted,
    DateTimeOffset? Stored,
    DateTimeOffset? Seen,
    DateTimeOffset? HandedOver,
    string? Message)
{
    public bool Passed => Outcome == DrillOutcome.Passed;

    public string OutcomeText => Passed ? "passed" : "failed";

    /// <summary>The journal's row.</summary>
    public Journaling.DrillRecord ToRecord() => new(Id, TenantId, Address, Started, OutcomeText, Step, Reason, Accepted, Stored, Seen, HandedOver, Message);

    /// <summary>From the journal's row.</summary>
    public static DrillResult From(Journaling.DrillRecord r) => new(r.Id, r.TenantId, r.Address, r.Started,
        r.Outcome == "passed" ? DrillOutcome.Passed : DrillOutcome.Failed, r.Step, r.Reason, r.Accepted, r.Stored, r.Seen, r.HandedOver, r.Message);

    /// <summary>The controller event that tells the alerts and /metrics.</summary>
    public Events.DrillFinished ToEvent(DateTimeOffset at) => new(TenantId, at, Id, Address, Passed, Step, Reason);
}
