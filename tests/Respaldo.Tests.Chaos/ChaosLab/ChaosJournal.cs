using Respaldo.Tests.Lab;

namespace Respaldo.Tests.ChaosLab;

/// <summary>A mark in the journal: rows after it belong to the test that took it.</summary>
public sealed record JournalMark(long HandOvers, long Holds, long Probes);

public sealed record HandOverRow(long Id, string Mailbox, string Message, string Sender, string Recipient, string Outcome, string Stage, long? Code, string Reply);

public sealed record HoldRow(string Sender, string Recipient, string Path, string Reason, long? Code);

public sealed record ProbeRow(long Id, bool Up, string Stage, long? Code, string Reply);

/// <summary>Reads the lab controller's journal (read-only, as an admin with sqlite3 would) for one test's window.</summary>
public sealed class ChaosJournal(string path)
{
    public JournalMark Mark()
    {
        object?[] row = LabJournal.Query(path,
            "SELECT (SELECT coalesce(max(id), 0) FROM handovers), (SELECT coalesce(max(id), 0) FROM holds), (SELECT coalesce(max(id), 0) FROM probes)")[0];
        return new JournalMark((long)row[0]!, (long)row[1]!, (long)row[2]!);
    }

    public List<HandOverRow> HandOvers(JournalMark since) =>
        LabJournal.Query(path, $"SELECT id, mailbox, message, coalesce(sender, ''), coalesce(recipient, ''), outcome, stage, code, reply FROM handovers WHERE id > {since.HandOvers} ORDER BY id")
            .Select(r => new HandOverRow((long)r[0]!, (string)r[1]!, (string)r[2]!, (string)r[3]!, (string)r[4]!, (string)r[5]!, (string)r[6]!, r[7] as long?, (string)r[8]!))
            .ToList();

    public List<HoldRow> Holds(JournalMark since) =>
        LabJournal.Query(path, $"SELECT coalesce(sender, ''), coalesce(recipient, ''), path, reason, code FROM holds WHERE id > {since.Holds} ORDER BY id")
            .Select(r => new HoldRow((string)r[0]!, (string)r[1]!, (string)r[2]!, (string)r[3]!, r[4] as long?))
            .ToList();

    public List<ProbeRow> Probes(JournalMark since) =>
        LabJournal.Query(path, $"SELECT id, up, stage, code, reply FROM probes WHERE id > {since.Probes} ORDER BY id")
            .Select(r => new ProbeRow((long)r[0]!, (long)r[1]! == 1, (string)r[2]!, r[3] as long?, (string)r[4]!))
            .ToList();

    /// <summary>Copies whose arrival the journal recorded (mailbox, base name), for the story check.</summary>
    public HashSet<(string Mailbox, string Message)> Arrivals() =>
        LabJournal.Query(path, "SELECT mailbox, message FROM arrivals")
            .Select(r => ((string)r[0]!, (string)r[1]!))
            .ToHashSet();
}
