using Microsoft.Data.Sqlite;

namespace Respaldo.Bench;

/// <summary>
/// The controller's own story of an outage, from its journal's probe table: how many probes
/// failed before the one that found the primary back, and how far apart the last two were
/// (the probe interval in effect when the primary returned).
/// </summary>
public sealed record ProbeHistory(int FailedProbes, DateTimeOffset OutageSeen, DateTimeOffset LastFailed, DateTimeOffset Up)
{
    public TimeSpan Interval => Up - LastFailed;

    public TimeSpan Outage => Up - OutageSeen;

    /// <summary>The first successful probe at or after <paramref name="back"/>, with the failures before it.</summary>
    public static ProbeHistory? Read(string journal, string tenant, DateTimeOffset back)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = journal, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        using (connection)
        {
            connection.Open();
            using SqliteCommand q = connection.CreateCommand();
            q.CommandText = "SELECT at, up FROM probes WHERE tenant = $tenant ORDER BY at, id";
            q.Parameters.AddWithValue("$tenant", tenant);
            var probes = new List<(long At, bool Up)>();
            using (SqliteDataReader r = q.ExecuteReader())
            {
                while (r.Read())
                {
                    probes.Add((r.GetInt64(0), r.GetInt64(1) == 1));
                }
            }
            // Note: a probe is stamped when it starts; one that found the port open started after it opened.
            long from = back.ToUnixTimeMilliseconds() - 50;
            int upIndex = probes.FindIndex(p => p.Up && p.At >= from);
            if (upIndex <= 0 || probes[upIndex - 1].Up)
            {
                return null;
            }
            int firstFailed = upIndex - 1;
            while (firstFailed > 0 && !probes[firstFailed - 1].Up)
            {
                firstFailed--;
            }
            return new ProbeHistory(upIndex - firstFailed,
                DateTimeOffset.FromUnixTimeMilliseconds(probes[firstFailed].At),
                DateTimeOffset.FromUnixTimeMilliseconds(probes[upIndex - 1].At),
                DateTimeOffset.FromUnixTimeMilliseconds(probes[upIndex].At));
        }
    }
}
