namespace Respaldo.Journaling;

/// <summary>
/// The journal file is damaged (SQLite reports corruption, or is not a database at all). A
/// broken environment: the daemon does not start, and the message tells the admin the way out.
/// </summary>
public sealed class JournalDamagedException(string path, IReadOnlyList<string> problems)
    : Exception($"journal {path} is damaged ({string.Join("; ", problems.Take(3))}): stop respaldo, run 'respaldoctl journal check' to see the damage " +
        "and 'respaldoctl journal recover' to rebuild it from the rows that can still be read (the damaged file is kept aside); no mail is in the journal, " +
        "the stored copies are untouched")
{
    public string JournalPath { get; } = path;

    public IReadOnlyList<string> Problems { get; } = problems;
}
