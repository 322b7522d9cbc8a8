using Microsoft.Data.Sqlite;

namespace Respaldo.Tests.Lab;

/// <summary>Reads a lab controller's journal (SQLite, WAL) the way an admin with sqlite3 would.</summary>
public static class LabJournal
{
    public static List<object?[]> Query(string journalPath, string sql)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = journalPath,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        using SqliteDataReader reader = command.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            object?[] row = new object?[reader.FieldCount];
            for (int i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }
            rows.Add(row);
        }
        return rows;
    }
}

/// <summary>Polling with a deadline, for effects that another process brings about.</summary>
public static class Eventually
{
    public static async Task<T> WaitAsync<T>(Func<Task<T>> attempt, Func<T, bool> done, TimeSpan timeout, string what)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        T last = await attempt();
        while (!done(last))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{what}: not within {timeout.TotalSeconds:0} s; last: {last}");
            }
            await Task.Delay(200);
            last = await attempt();
        }
        return last;
    }
}
