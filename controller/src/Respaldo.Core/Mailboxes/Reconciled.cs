namespace Respaldo.Mailboxes;

/// <summary>
/// What reconciliation lets into the index from a batch of files it did not know: those still
/// to hand over (<paramref name="Fresh"/>), and which of them the journal already records as
/// arrived (<paramref name="Recorded"/>, keys): a restart or a rescan adds those without
/// announcing them again (<see cref="MailboxIndex.Arrived"/>: a journal row and an alert each).
/// </summary>
public sealed record Reconciled(IReadOnlyList<WaitingMessage> Fresh, IReadOnlySet<string> Recorded)
{
    private static readonly IReadOnlySet<string> None = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>All of them new: every one is announced.</summary>
    public Reconciled(IReadOnlyList<WaitingMessage> fresh)
        : this(fresh, None)
    {
    }
}
