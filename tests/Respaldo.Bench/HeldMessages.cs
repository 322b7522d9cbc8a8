using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Respaldo.Bench;

/// <summary>
/// What the controller held during a run: the files in its hold area
/// (<c>STATE/held/TENANT/MAILBOX/</c>) and, for the message of a failed run, the mailboxes and
/// the primary's replies the journal recorded for them.
/// </summary>
public static class HeldMessages
{
    /// <summary>Messages in the hold area under <paramref name="root"/>.</summary>
    public static int Count(string root) =>
        Directory.Exists(root) ? Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Count() : 0;

    /// <summary>"MAILBOX: N (REASON); ..." from the journal's holds of <paramref name="tenant"/>.</summary>
    public static string Describe(string journal, string tenant)
    {
        try
        {
            var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = journal, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
            using (connection)
            {
                connection.Open();
                using SqliteCommand q = connection.CreateCommand();
                q.CommandText = "SELECT mailbox, count(*), min(reason) FROM holds WHERE tenant = $tenant AND state = 'held' GROUP BY mailbox ORDER BY mailbox";
                q.Parameters.AddWithValue("$tenant", tenant);
                var parts = new List<string>();
                using SqliteDataReader r = q.ExecuteReader();
                while (r.Read())
                {
                    parts.Add(string.Create(CultureInfo.InvariantCulture, $"{r.GetString(0)}: {r.GetInt64(1)}, \"{r.GetString(2)}\""));
                }
                return parts.Count > 0 ? string.Join("; ", parts) : "not in the journal yet";
            }
        }
        catch (SqliteException e)
        {
            return $"the journal {journal} could not be read: {e.Message}";
        }
    }
}
