using System.Globalization;
using System.Text;

namespace Respaldo.Tests.Lab;

/// <summary>
/// Fills a lab's hold area with many held files at once, as a long outage of a primary that
/// refuses a mailbox would: written while the controller is stopped, they are recorded as held
/// at its next start (each without a journal row, as after a crash), one row each.
/// </summary>
public static class HoldAreaFiller
{
    /// <summary>Writes <paramref name="count"/> held copies for <paramref name="mailbox"/> of <paramref name="tenant"/>; their names carry <paramref name="run"/>.</summary>
    public static IReadOnlyList<string> Fill(string holdDir, string tenant, string mailbox, string run, int count)
    {
        string dir = MakeDirectory(holdDir, tenant, mailbox);
        var paths = new List<string>(count);
        for (int i = 0; i < count; i++)
        {
            string name = string.Create(CultureInfo.InvariantCulture, $"{1795800000 + i}.M{i}P1Q{run}.many");
            string path = Path.Combine(dir, name);
            File.WriteAllBytes(path, Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
                $"Return-Path: <many{i}@example.org>\nDelivered-To: {mailbox}\n" +
                $"Received: from x by backup (Dovecot) with LMTP id m{i}\n\tfor <{mailbox}>; Fri, 27 Nov 2026 10:00:00 +0000\n" +
                $"From: many{i}@example.org\nSubject: many holds {run} {i}\n\nheld {i}\n")));
            paths.Add(path);
        }
        return paths;
    }

    /// <summary>
    /// Makes HOLD_DIR/TENANT/MAILBOX as the daemon makes them (its umask 0027: 0750), each level:
    /// the mail user may not even list the hold area (Isolation/MailUserIsolationTests), whichever
    /// test makes it first. Note: Directory.CreateDirectory's mode applies to the last level only.
    /// </summary>
    public static string MakeDirectory(string holdDir, string tenant, string mailbox)
    {
        const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute;
        string dir = holdDir;
        foreach (string part in new[] { "", tenant, mailbox })
        {
            dir = part.Length == 0 ? dir : Path.Combine(dir, part);
            if (!Directory.Exists(dir))
            {
                Directory.CreateDirectory(dir, Mode);
                File.SetUnixFileMode(dir, Mode);
            }
        }
        return dir;
    }

    /// <summary>The journal's held rows of the run, oldest (lowest id) first.</summary>
    public static List<long> HeldIds(string journal, string run) =>
        LabJournal.Query(journal, $"SELECT id FROM holds WHERE state = 'held' AND path LIKE '%Q{run}.many%' ORDER BY id")
            .Select(r => Convert.ToInt64(r[0], CultureInfo.InvariantCulture)).ToList();

    /// <summary>
    /// Leaves the shared lab as it was: the run's files removed from the hold area and the
    /// maildirs, its rows no longer held. Call with the controller stopped.
    /// </summary>
    public static void Clear(string journal, string stateDir, string run)
    {
        foreach (string file in Directory.EnumerateFiles(stateDir, $"*Q{run}.many*", SearchOption.AllDirectories))
        {
            File.Delete(file);
        }
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={journal};Pooling=False;Default Timeout=30");
        connection.Open();
        using Microsoft.Data.Sqlite.SqliteCommand update = connection.CreateCommand();
        update.CommandText = "UPDATE holds SET state = 'bounced' WHERE state = 'held' AND path LIKE $like";
        update.Parameters.AddWithValue("$like", $"%Q{run}.many%");
        update.ExecuteNonQuery();
    }
}
