namespace Respaldo.Mailboxes;

/// <summary>
/// A message stored in a backup mailbox and not yet handed over. It is known by its maildir
/// base name (the file name before ":2,"), since Dovecot may rename new/X to cur/X:2,S at any
/// moment; <see cref="Path"/> is where it was last seen.
/// </summary>
public sealed record WaitingMessage(
    string TenantId,
    string Mailbox,
    string MaildirPath,
    string BaseName,
    string Path,
    long Size,
    DateTimeOffset Arrived)
{
    /// <summary>The journal's key for this copy.</summary>
    public string Key => Mailbox + "/" + BaseName;
}
