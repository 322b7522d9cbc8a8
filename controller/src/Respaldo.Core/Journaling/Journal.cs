using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Respaldo.Journaling;

/// <summary>
/// The journal: one SQLite database in the state directory that tells each message's story
/// (arrival, attempts, hand-over or hold) and records every probe of every primary.
///
/// Writes go through one writer that commits in groups: a burst of hand-overs costs one
/// fsync per group, not one per message, and a crash loses at most the group in flight,
/// whose messages are then sent again (a duplicate, never a loss). A task returned by a
/// Record method completes only when its row is durable (WAL, synchronous=FULL), and the
/// hand-over deletes a copy only after that.
/// </summary>
public sealed partial class Journal : IAsyncDisposable
{
    private const int SchemaVersion = 6;
    private const int MaxGroup = 1000;

    private readonly string _connectionString;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    /// <summary>One write: a statement and its parameters, or (for pruning) a step run on the writer's connection and transaction.</summary>
    private sealed record Pending(Action<SqliteCommand> Bind, string Sql, TaskCompletionSource<int> Done)
    {
        public Func<SqliteConnection, SqliteTransaction, int>? Step { get; init; }
    }

    private Journal(string path, ILogger logger, TimeProvider time)
    {
        Path = path;
        _logger = logger;
        _time = time;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        CheckIntact();
        try
        {
            Migrate();
        }
        catch (SqliteException e) when (IsDamage(e))
        {
            throw new JournalDamagedException(path, [e.Message]);
        }
        _writer = Task.Run(WriteLoopAsync);
    }

    public string Path { get; }

    /// <summary>Opens (creating or upgrading) the journal. A journal that cannot be opened is a broken environment: this throws.</summary>
    public static Journal Open(string path, ILogger logger, TimeProvider? time = null)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        return new Journal(path, logger, time ?? TimeProvider.System);
    }

    internal SqliteConnection OpenConnection()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using SqliteCommand pragmas = connection.CreateCommand();
        // Note: WAL lets the dashboard read while the writer commits; FULL makes each
        // commit durable before it returns (https://sqlite.org/pragma.html#pragma_synchronous).
        pragmas.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;";
        pragmas.ExecuteNonQuery();
        return connection;
    }

    /// <summary>SQLITE_CORRUPT and SQLITE_NOTADB: the file itself is damaged (https://sqlite.org/rescode.html).</summary>
    internal static bool IsDamage(SqliteException e) => e.SqliteErrorCode is 11 or 26;

    /// <summary>
    /// At open: SQLite's own quick check of every page (<c>PRAGMA quick_check</c>), so a damaged
    /// journal stops the start with a message naming the way out, instead of failing later
    /// on some write while messages wait.
    /// </summary>
    private void CheckIntact()
    {
        IReadOnlyList<string> problems;
        try
        {
            using SqliteConnection connection = OpenConnection();
            problems = JournalRepair.Problems(connection, quick: true);
        }
        catch (SqliteException e) when (IsDamage(e))
        {
            problems = [e.Message];
        }
        if (problems.Count > 0)
        {
            throw new JournalDamagedException(Path, problems);
        }
    }

    private void Migrate()
    {
        using SqliteConnection connection = OpenConnection();
        using SqliteCommand version = connection.CreateCommand();
        version.CommandText = "PRAGMA user_version";
        long current = (long)version.ExecuteScalar()!;
        if (current > SchemaVersion)
        {
            throw new InvalidOperationException($"journal {Path} has schema {current}, newer than this program's {SchemaVersion}: refusing to touch it");
        }
        if (current == SchemaVersion)
        {
            return;
        }
        using SqliteTransaction tx = connection.BeginTransaction();
        // Note: one step per schema version, applied in order inside one transaction, so a
        // journal of any older version ends at SchemaVersion or is left untouched.
        if (current < 1)
        {
            Run(connection, tx, SchemaV1);
        }
        if (current < 2)
        {
            MigrateRecipients(connection, tx);
        }
        if (current < 3)
        {
            MigrateAlerts(connection, tx);
        }
        if (current < 4)
        {
            MigrateVerdicts(connection, tx);
        }
        if (current < 5)
        {
            MigrateRetention(connection, tx);
        }
        if (current < 6)
        {
            MigrateCatchAll(connection, tx);
        }
        using SqliteCommand setVersion = connection.CreateCommand();
        setVersion.Transaction = tx;
        setVersion.CommandText = $"PRAGMA user_version = {SchemaVersion}";
        setVersion.ExecuteNonQuery();
        tx.Commit();
    }

    private static void Run(SqliteConnection connection, SqliteTransaction tx, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Version 1: probes, arrivals, hand-overs, holds.</summary>
    private const string SchemaV1 = """
            CREATE TABLE IF NOT EXISTS probes (
                id INTEGER PRIMARY KEY,
                at INTEGER NOT NULL,            -- unix milliseconds
                tenant TEXT NOT NULL,
                host TEXT NOT NULL,
                up INTEGER NOT NULL,            -- 1 up, 0 down
                stage TEXT NOT NULL,
                code INTEGER,
                reply TEXT NOT NULL,
                latency_ms REAL NOT NULL,
                tls INTEGER NOT NULL DEFAULT 0,
                max_size INTEGER
            );
            CREATE INDEX IF NOT EXISTS probes_tenant_at ON probes (tenant, at);
            CREATE TABLE IF NOT EXISTS arrivals (
                id INTEGER PRIMARY KEY,
                at INTEGER NOT NULL,
                tenant TEXT NOT NULL,
                mailbox TEXT NOT NULL,
                message TEXT NOT NULL,
                size INTEGER NOT NULL,
                UNIQUE (mailbox, message)
            );
            CREATE INDEX IF NOT EXISTS arrivals_tenant_at ON arrivals (tenant, at);
            CREATE TABLE IF NOT EXISTS handovers (
                id INTEGER PRIMARY KEY,
                at INTEGER NOT NULL,
                tenant TEXT NOT NULL,
                mailbox TEXT NOT NULL,
                message TEXT NOT NULL,
                size INTEGER NOT NULL,
                sender TEXT,
                recipient TEXT,
                host TEXT NOT NULL,
                outcome TEXT NOT NULL,          -- delivered | deferred | held
                stage TEXT NOT NULL,
                code INTEGER,
                reply TEXT NOT NULL,
                attempt INTEGER NOT NULL,
                duration_ms REAL NOT NULL
            );
            CREATE INDEX IF NOT EXISTS handovers_message ON handovers (mailbox, message);
            CREATE INDEX IF NOT EXISTS handovers_tenant_at ON handovers (tenant, at);
            CREATE TABLE IF NOT EXISTS holds (
                id INTEGER PRIMARY KEY,
                at INTEGER NOT NULL,
                tenant TEXT NOT NULL,
                mailbox TEXT NOT NULL,
                message TEXT NOT NULL,
                size INTEGER NOT NULL,
                sender TEXT,
                recipient TEXT,
                path TEXT NOT NULL,
                reason TEXT NOT NULL,
                code INTEGER,
                state TEXT NOT NULL DEFAULT 'held',   -- held | released | bounced
                resolved_at INTEGER
            );
            CREATE INDEX IF NOT EXISTS holds_tenant_state ON holds (tenant, state);
            CREATE INDEX IF NOT EXISTS holds_message ON holds (mailbox, message);
            """;

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private Task Enqueue(string sql, Action<SqliteCommand> bind) => Enqueue(new Pending(bind, sql, NewDone()));

    private static TaskCompletionSource<int> NewDone() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private Task<int> Enqueue(Pending pending)
    {
        TaskCompletionSource<int> done = pending.Done;
        if (!_queue.Writer.TryWrite(pending))
        {
            done.SetException(new ObjectDisposedException(nameof(Journal), "the journal is closed"));
        }
        return done.Task;
    }

    private async Task WriteLoopAsync()
    {
        var group = new List<Pending>(MaxGroup);
        using SqliteConnection connection = OpenConnection();
        while (await _queue.Reader.WaitToReadAsync())
        {
            group.Clear();
            while (group.Count < MaxGroup && _queue.Reader.TryRead(out Pending? p))
            {
                group.Add(p);
            }
            try
            {
                using SqliteTransaction tx = connection.BeginTransaction();
                int[] changed = new int[group.Count];
                for (int i = 0; i < group.Count; i++)
                {
                    Pending p = group[i];
                    if (p.Step is { } step)
                    {
                        changed[i] = step(connection, tx);
                        continue;
                    }
                    using SqliteCommand command = connection.CreateCommand();
                    command.Transaction = tx;
                    command.CommandText = p.Sql;
                    p.Bind(command);
                    changed[i] = command.ExecuteNonQuery();
                }
                tx.Commit();
                for (int i = 0; i < group.Count; i++)
                {
                    group[i].Done.TrySetResult(changed[i]);
                }
            }
            catch (SqliteException e)
            {
                // Note: a journal that cannot write (disk full, I/O error) must stop deletions:
                // every waiter sees the failure and keeps its message.
                LogWriteFailed(_logger, group.Count, e.Message);
                foreach (Pending p in group)
                {
                    p.Done.TrySetException(e);
                }
            }
        }
    }

    public Task RecordProbeAsync(ProbeRecord r) => Enqueue(
        "INSERT INTO probes (at, tenant, host, up, stage, code, reply, latency_ms, tls, max_size) VALUES ($at, $tenant, $host, $up, $stage, $code, $reply, $latency, $tls, $max)",
        c =>
        {
            c.Parameters.AddWithValue("$at", r.At.ToUnixTimeMilliseconds());
            c.Parameters.AddWithValue("$tenant", r.TenantId);
            c.Parameters.AddWithValue("$host", r.Host);
            c.Parameters.AddWithValue("$up", r.Up ? 1 : 0);
            c.Parameters.AddWithValue("$stage", r.Stage);
            c.Parameters.AddWithValue("$code", (object?)r.Code ?? DBNull.Value);
            c.Parameters.AddWithValue("$reply", r.Reply);
            c.Parameters.AddWithValue("$latency", r.LatencyMs);
            c.Parameters.AddWithValue("$tls", r.Tls ? 1 : 0);
            c.Parameters.AddWithValue("$max", (object?)r.MaxSize ?? DBNull.Value);
        });

    public Task RecordArrivalAsync(string tenantId, string mailbox, string message, long size, DateTimeOffset at) => Enqueue(
        "INSERT OR IGNORE INTO arrivals (at, tenant, mailbox, message, size) VALUES ($at, $tenant, $mailbox, $message, $size)",
        c =>
        {
            c.Parameters.AddWithValue("$at", at.ToUnixTimeMilliseconds());
            c.Parameters.AddWithValue("$tenant", tenantId);
            c.Parameters.AddWithValue("$mailbox", mailbox);
            c.Parameters.AddWithValue("$message", message);
            c.Parameters.AddWithValue("$size", size);
        });

    /// <summary>Records one attempt. For a delivery, the returned task completing means it is on disk.</summary>
    public Task RecordHandOverAsync(HandOverRecord r) => Enqueue(
        "INSERT INTO handovers (at, tenant, mailbox, message, size, sender, recipient, host, outcome, stage, code, reply, attempt, duration_ms) " +
        "VALUES ($at, $tenant, $mailbox, $message, $size, $sender, $recipient, $host, $outcome, $stage, $code, $reply, $attempt, $duration)",
        c =>
        {
            c.Parameters.AddWithValue("$at", Now());
            c.Parameters.AddWithValue("$tenant", r.TenantId);
            c.Parameters.AddWithValue("$mailbox", r.Mailbox);
            c.Parameters.AddWithValue("$message", r.Message);
            c.Parameters.AddWithValue("$size", r.Size);
            c.Parameters.AddWithValue("$sender", (object?)r.Sender ?? DBNull.Value);
            c.Parameters.AddWithValue("$recipient", (object?)r.Recipient ?? DBNull.Value);
            c.Parameters.AddWithValue("$host", r.Host);
            c.Parameters.AddWithValue("$outcome", r.Outcome);
            c.Parameters.AddWithValue("$stage", r.Stage);
            c.Parameters.AddWithValue("$code", (object?)r.Code ?? DBNull.Value);
            c.Parameters.AddWithValue("$reply", r.Reply);
            c.Parameters.AddWithValue("$attempt", r.Attempt);
            c.Parameters.AddWithValue("$duration", r.DurationMs);
        });

    public Task RecordHoldAsync(HoldRecord r) => Enqueue(
        "INSERT INTO holds (at, tenant, mailbox, message, size, sender, recipient, path, reason, code) " +
        "VALUES ($at, $tenant, $mailbox, $message, $size, $sender, $recipient, $path, $reason, $code)",
        c =>
        {
            c.Parameters.AddWithValue("$at", Now());
            c.Parameters.AddWithValue("$tenant", r.TenantId);
            c.Parameters.AddWithValue("$mailbox", r.Mailbox);
            c.Parameters.AddWithValue("$message", r.Message);
            c.Parameters.AddWithValue("$size", r.Size);
            c.Parameters.AddWithValue("$sender", (object?)r.Sender ?? DBNull.Value);
            c.Parameters.AddWithValue("$recipient", (object?)r.Recipient ?? DBNull.Value);
            c.Parameters.AddWithValue("$path", r.Path);
            c.Parameters.AddWithValue("$reason", r.Reason);
            c.Parameters.AddWithValue("$code", (object?)r.Code ?? DBNull.Value);
        });

    /// <summary>Marks a held message released (sent back to its mailbox) or bounced.</summary>
    public Task ResolveHoldAsync(long holdId, string state) => Enqueue(
        "UPDATE holds SET state = $state, resolved_at = $at WHERE id = $id AND state = 'held'",
        c =>
        {
            c.Parameters.AddWithValue("$state", state);
            c.Parameters.AddWithValue("$at", Now());
            c.Parameters.AddWithValue("$id", holdId);
        });

    /// <summary>True when the journal holds a recorded 250 for this copy (start-up reconciliation).</summary>
    public bool WasDelivered(string mailbox, string message)
    {
        using SqliteConnection connection = OpenConnection();
        using SqliteCommand q = connection.CreateCommand();
        q.CommandText = "SELECT 1 FROM handovers WHERE mailbox = $mailbox AND message = $message AND outcome = 'delivered' LIMIT 1";
        q.Parameters.AddWithValue("$mailbox", mailbox);
        q.Parameters.AddWithValue("$message", message);
        return q.ExecuteScalar() is not null;
    }

    /// <summary>Runs a read-only query on its own connection (readers never block the writer in WAL mode).</summary>
    public List<T> Query<T>(string sql, Action<SqliteCommand> bind, Func<SqliteDataReader, T> map)
    {
        using SqliteConnection connection = OpenConnection();
        using SqliteCommand q = connection.CreateCommand();
        q.CommandText = sql;
        bind(q);
        using SqliteDataReader reader = q.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(map(reader));
        }
        return rows;
    }

    /// <summary>Waits until everything recorded so far is durable.</summary>
    public Task FlushAsync() => Enqueue("SELECT 1", _ => { });

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer;
        SqliteConnection.ClearAllPools();
    }

    [LoggerMessage(EventId = 1301, Level = LogLevel.Error, Message = "journal write of {Count} record(s) failed: {Reason}; the affected messages stay in their mailboxes")]
    private static partial void LogWriteFailed(ILogger logger, int count, string reason);
}
