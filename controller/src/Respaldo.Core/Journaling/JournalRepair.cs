using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Mono.Unix.Native;

namespace Respaldo.Journaling;

/// <summary>What <c>PRAGMA integrity_check</c> said about a journal file.</summary>
public sealed record JournalCheck(string Path, IReadOnlyList<string> Problems)
{
    public bool Intact => Problems.Count == 0;
}

/// <summary>What a recovery did: where the damaged file went, and the rows the new journal has per table.</summary>
public sealed record JournalRecovery(string Path, string DamagedCopy, string Method, IReadOnlyDictionary<string, long> Rows);

/// <summary>
/// <c>respaldoctl journal check|recover</c>: SQLite's own tools on a damaged journal.
/// Check is <c>PRAGMA integrity_check</c>. Recover runs Debian's <c>sqlite3</c> CLI on a copy:
/// its <c>.recover</c> where the CLI has it working, else its <c>.dump</c>, which reads each table
/// forwards and then backwards around a damaged page and so keeps the rows it can. The result
/// becomes the journal (owner and mode of the old one) after the damaged files are copied aside.
/// Run only while the daemon is stopped: a journal some process has open is refused.
/// </summary>
public static class JournalRepair
{
    /// <summary>The damage SQLite finds on an open connection; empty when intact.</summary>
    public static IReadOnlyList<string> Problems(SqliteConnection connection, bool quick)
    {
        using SqliteCommand check = connection.CreateCommand();
        check.CommandText = quick ? "PRAGMA quick_check" : "PRAGMA integrity_check";
        using SqliteDataReader reader = check.ExecuteReader();
        var lines = new List<string>();
        while (reader.Read())
        {
            lines.Add(reader.GetString(0));
        }
        return lines is ["ok"] ? [] : lines;
    }

    public static JournalCheck Check(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"no journal at {path}", path);
        }
        try
        {
            using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString());
            connection.Open();
            return new JournalCheck(path, Problems(connection, quick: false));
        }
        catch (SqliteException e) when (Journal.IsDamage(e))
        {
            return new JournalCheck(path, [e.Message]);
        }
    }

    /// <summary>Rebuilds the journal at <paramref name="path"/> from what can be read; the damaged files are kept as <c>PATH.damaged-STAMP</c> (+ <c>-wal</c>).</summary>
    public static JournalRecovery Recover(string path, DateTimeOffset now, string sqlite3 = "sqlite3")
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"no journal at {path}", path);
        }
        if (OpenedBy(path) is { } pid)
        {
            throw new InvalidOperationException($"{path} is open in process {pid} (respaldod?): stop respaldo first");
        }
        string stamp = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        string damaged = $"{path}.damaged-{stamp}";
        string work = $"{path}.recovering-{stamp}";
        string fresh = $"{path}.recovered-{stamp}";
        // Note: the damaged files are copied aside first and never opened again: sqlite3
        // checkpoints a WAL when it closes, which would change the evidence.
        CopyWithWal(path, damaged);
        CopyWithWal(path, work);
        try
        {
            string method = "recover";
            string? sql = RunSqlite(sqlite3, work, ".recover");
            if (sql is null)
            {
                // Note: Debian 12's sqlite3 (3.40) is built without the sqlite_dbpage table
                // that .recover reads, and fails with "SQL logic error"; .dump is the fallback.
                method = "dump";
                sql = RunSqlite(sqlite3, work, ".dump") ?? throw new InvalidOperationException($"sqlite3 could read nothing of {path}");
                // Note: .dump ends with ROLLBACK when it met damage; what it read is what we want.
                sql = sql.Replace("ROLLBACK; -- due to errors", "COMMIT;", StringComparison.Ordinal);
            }
            File.Delete(fresh);
            if (RunSqlite(sqlite3, fresh, null, sql) is null)
            {
                throw new InvalidOperationException($"sqlite3 could not load what it read of {path}");
            }
            // Note: schema version 0, so that opening runs every migration step (each one
            // CREATE ... IF NOT EXISTS) and makes again whatever table the damage took.
            using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = fresh, Pooling = false }.ToString()))
            {
                connection.Open();
                using SqliteCommand reset = connection.CreateCommand();
                reset.CommandText = "PRAGMA user_version = 0; PRAGMA journal_mode = WAL;";
                reset.ExecuteNonQuery();
                if (Problems(connection, quick: false) is { Count: > 0 } problems)
                {
                    throw new InvalidOperationException($"the rebuilt journal is not intact: {string.Join("; ", problems)}");
                }
            }
            CopyOwnership(path, fresh);
            Fsync(fresh);
            File.Delete(path + "-wal");
            File.Delete(path + "-shm");
            File.Move(fresh, path, overwrite: true);
            FsyncDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
            return new JournalRecovery(path, damaged, method, CountRows(path));
        }
        finally
        {
            File.Delete(work);
            File.Delete(work + "-wal");
            File.Delete(work + "-shm");
            File.Delete(fresh);
        }
    }

    private static Dictionary<string, long> CountRows(string path)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        var tables = new List<string>();
        using (SqliteCommand list = connection.CreateCommand())
        {
            list.CommandText = "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name";
            using SqliteDataReader r = list.ExecuteReader();
            while (r.Read())
            {
                tables.Add(r.GetString(0));
            }
        }
        var rows = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string table in tables)
        {
            using SqliteCommand count = connection.CreateCommand();
            count.CommandText = $"SELECT COUNT(*) FROM \"{table.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
            rows[table] = (long)count.ExecuteScalar()!;
        }
        return rows;
    }

    /// <summary>Runs sqlite3 on a database with one dot-command (or SQL on standard input); its output, or null when it failed.</summary>
    private static string? RunSqlite(string sqlite3, string database, string? command, string? input = null)
    {
        var start = new ProcessStartInfo(sqlite3)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-batch");
        start.ArgumentList.Add("-bail");
        start.ArgumentList.Add(database);
        if (command is not null)
        {
            start.ArgumentList.Add(command);
        }
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"cannot run {sqlite3} ({e.Message}): install Debian's sqlite3 package", e);
        }
        using (process)
        {
            Task<string> output = process.StandardOutput.ReadToEndAsync();
            Task<string> errors = process.StandardError.ReadToEndAsync();
            if (input is not null)
            {
                process.StandardInput.Write(input);
            }
            process.StandardInput.Close();
            process.WaitForExit();
            string error = errors.GetAwaiter().GetResult();
            string text = output.GetAwaiter().GetResult();
            // Note: .dump exits 0 even past damage; .recover and loading report failures by exit code or on stderr.
            return process.ExitCode == 0 && (command == ".dump" || error.Length == 0) ? text : null;
        }
    }

    private static void CopyWithWal(string from, string to)
    {
        File.Copy(from, to, overwrite: false);
        if (File.Exists(from + "-wal"))
        {
            File.Copy(from + "-wal", to + "-wal", overwrite: false);
        }
    }

    private static void CopyOwnership(string from, string to)
    {
        if (Syscall.stat(from, out Stat old) != 0)
        {
            return;
        }
        if (Syscall.chown(to, old.st_uid, old.st_gid) != 0 && Syscall.getuid() == 0)
        {
            throw new IOException($"cannot give {to} the owner of {from}: {Stdlib.GetLastError()}");
        }
        _ = Syscall.chmod(to, old.st_mode & (FilePermissions)0xFFF);
    }

    private static void Fsync(string path)
    {
        using FileStream f = new(path, FileMode.Open, FileAccess.ReadWrite);
        f.Flush(flushToDisk: true);
    }

    private static void FsyncDirectory(string directory)
    {
        int fd = Syscall.open(directory, OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY);
        if (fd < 0)
        {
            return;
        }
        int synced = Syscall.fsync(fd);
        _ = Syscall.close(fd);
        if (synced != 0)
        {
            throw new IOException($"fsync of {directory} failed: {Stdlib.GetLastError()}");
        }
    }

    /// <summary>A process (other than this one) with the journal or its WAL open, found in /proc.</summary>
    private static int? OpenedBy(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        var names = new HashSet<string>([full, full + "-wal", full + "-shm"], StringComparer.Ordinal);
        int self = Environment.ProcessId;
        foreach (string proc in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(System.IO.Path.GetFileName(proc), out int pid) || pid == self)
            {
                continue;
            }
            try
            {
                foreach (string fd in Directory.EnumerateFileSystemEntries(System.IO.Path.Combine(proc, "fd")))
                {
                    if (new FileInfo(fd).LinkTarget is { } target && names.Contains(target))
                    {
                        return pid;
                    }
                }
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                // Another user's process we may not look into, or one that just ended.
            }
        }
        return null;
    }
}
