using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

using Respaldo.Health;

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
///
/// The writer is a thread of its own, not a thread-pool worker: its synchronous SQLite and
/// fsync would otherwise hold one of the pool's few workers (two on two cores) for a whole
/// hand-over, and the connections' socket completions would queue behind it. A write that
/// carries a settlement (<see cref="RecordDeliveryAsync"/>) has it run after its group's
/// commit, all of a group's in one pool work item, not one continuation per message.
/// </summary>
public sealed partial class Journal : IAsyncDisposable
{
    private const int SchemaVersion = 8;
    private const int MaxGroup = 1000;

    private readonly string _connectionString;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Thread _writer;
    private readonly TaskCompletionSource _writerDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    /// <summary>
    /// One write: a statement and its values (in the order of its parameters), or (for pruning)
    /// a step run on the writer's connection and transaction.
    /// </summary>
    private sealed record Pending(Statement? Statement, object?[] Values, TaskCompletionSource<int> Done)
    {
        public Func<SqliteConnection, SqliteTransaction, int>? Step { get; init; }

        /// <summary>Run once the row is durable (null) or could not be written (why), before Done completes.</summary>
        public Action<Exception?>? Settle { get; init; }

        /// <summary>The outcome the writer handed to the group's settlement: rows changed, or why not.</summary>
        public int Changed { get; set; }

        public Exception? Failure { get; set; }
    }

    /// <summary>
    /// A kind of write: its SQL and its parameters' names and types. The writer makes one
    /// command per kind on its connection, creates the parameters once and only assigns their
    /// values per row, so SQLite compiles each statement once, not once per row.
    /// </summary>
    private sealed class Statement(string sql, params (string Name, SqliteType Type)[] parameters)
    {
        public string Sql => sql;

        public IReadOnlyList<(string Name, SqliteType Type)> Parameters => parameters;
    }

    /// <summary>The writer's commands, one per statement kind (touched by the writer only).</summary>
    private readonly Dictionary<Statement, SqliteCommand> _prepared = new(ReferenceEqualityComparer.Instance);

    /// <summary>Why the writer stopped for good (its connection could not be opened), or null.</summary>
    private volatile Exception? _stopped;

    /// <summary>
    /// Test seam: when set, every write fails at once (the returned task is already faulted)
    /// with this exception, as every write fails on a full disk, but without waiting for the
    /// writer's group, so a test sees the failure before the caller's next step.
    /// </summary>
    internal Exception? RefuseWrites { get; set; }

    /// <summary>
    /// The single writer's proof of life (the systemd watchdog and <c>/healthz</c> read it with
    /// the loops'): it beats before each group it writes and owes nothing while the queue is
    /// empty. A writer stuck in a write (a disk that no longer answers) or stopped for good goes
    /// overdue, and the daemon says "stuck: journal writer" instead of accepting rows nobody writes.
    /// </summary>
    public Heartbeat WriterHeartbeat { get; }

    /// <summary>The longest one group may take: SQLite's busy timeout (30 s) for the group and again for each row of a failed one, bounded.</summary>
    public static TimeSpan GroupAllowance { get; } = TimeSpan.FromMinutes(2);

    private Journal(string path, ILogger logger, TimeProvider time)
    {
        Path = path;
        _logger = logger;
        _time = time;
        WriterHeartbeat = new Heartbeat("journal writer", time);
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
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "journal writer" };
        _writer.Start();
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
        if (current < 7)
        {
            MigrateReconciliation(connection, tx);
        }
        if (current < 8)
        {
            MigrateDrills(connection, tx);
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

    private static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private static string? Text(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private Task Enqueue(Statement statement, params object?[] values) => Enqueue(new Pending(statement, values, NewDone()));

    private static TaskCompletionSource<int> NewDone() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Runs a step on the writer's connection, inside the transaction of the group it falls in
    /// (pruning; and the tests' seam for a write that fails or that holds the writer back).
    /// </summary>
    internal Task<int> RunOnWriterAsync(Func<SqliteConnection, SqliteTransaction, int> step) => Enqueue(new Pending(null, [], NewDone()) { Step = step });

    private Task<int> Enqueue(Pending pending)
    {
        TaskCompletionSource<int> done = pending.Done;
        // Note: the writer logs each failure it reports; observing every task here means a write
        // nobody awaits (arrivals, probes, alerts) never surfaces as an unobserved task exception.
        done.Task.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        if (RefuseWrites is { } refused)
        {
            SettleNow(pending, refused);
        }
        else if (!_queue.Writer.TryWrite(pending))
        {
            // Note: after DisposeAsync (or a writer that could not open its connection) nothing
            // will ever write this row: fail now, never leave the caller waiting.
            Exception? why = _stopped;
            LogWriteRefused(_logger, why?.Message ?? "the journal is closed");
            SettleNow(pending, new ObjectDisposedException(nameof(Journal), why is null ? "the journal is closed" : $"the journal writer stopped: {why.Message}"));
        }
        return done.Task;
    }

    private void WriteLoop()
    {
        var group = new List<Pending>(MaxGroup);
        SqliteConnection? connection = null;
        try
        {
            // Note: blocking is this thread's job: it is no pool worker, and it waits only while
            // the queue is empty.
            while (_queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                group.Clear();
                while (group.Count < MaxGroup && _queue.Reader.TryRead(out Pending? p))
                {
                    group.Add(p);
                }
                WriterHeartbeat.Beat(GroupAllowance);
                if (connection?.State != System.Data.ConnectionState.Open)
                {
                    connection = Reconnect(connection);
                }
                WriteGroup(connection, group);
                if (!_queue.Reader.TryPeek(out _))
                {
                    // Note: idle: nothing to write, nothing owed (a beat is owed again with the next row).
                    WriterHeartbeat.Stop();
                }
            }
            WriterHeartbeat.Stop();
        }
        catch (Exception e)
        {
            // Note: only opening the connection can end up here (WriteGroup catches everything).
            // The writer stops for good: later writes fail at once, and so does what waits now.
            _stopped = e;
            _queue.Writer.TryComplete(e);
            LogWriterStopped(_logger, e.Message);
            foreach (Pending p in group)
            {
                SettleNow(p, e);
            }
            while (_queue.Reader.TryRead(out Pending? p))
            {
                SettleNow(p, e);
            }
        }
        finally
        {
            ForgetPrepared();
            connection?.Dispose();
            _writerDone.TrySetResult();
        }
    }

    /// <summary>
    /// Ends a write with its outcome: at once, or (a write with a settlement) into
    /// <paramref name="settling"/>, settled with the rest of its group after the writer is done with it.
    /// </summary>
    private static void Finish(Pending p, int changed, Exception? failure, List<Pending> settling)
    {
        if (p.Settle is null)
        {
            if (failure is null)
            {
                p.Done.TrySetResult(changed);
            }
            else
            {
                p.Done.TrySetException(failure);
            }
            return;
        }
        p.Changed = changed;
        p.Failure = failure;
        settling.Add(p);
    }

    /// <summary>
    /// A group's settlements in one pool work item, in the order of the group (the writer thread
    /// goes on to the next group meanwhile). Note: one work item per commit instead of one
    /// continuation per message: on two cores those queued ahead of the connections' socket
    /// completions and held the hand-over back.
    /// </summary>
    private static void SettleLater(List<Pending> settling)
    {
        if (settling.Count == 0)
        {
            return;
        }
        ThreadPool.UnsafeQueueUserWorkItem(static group =>
        {
            foreach (Pending p in group)
            {
                SettleNow(p, p.Failure, p.Changed);
            }
        }, settling, preferLocal: false);
    }

    /// <summary>Runs a write's settlement (if it has one), then completes its task: faulted when the write or the settlement failed.</summary>
    private static void SettleNow(Pending p, Exception? failure, int changed = 0)
    {
        if (p.Settle is { } settle)
        {
            try
            {
                settle(failure);
            }
            catch (Exception e)
            {
                failure ??= e;
            }
        }
        if (failure is null)
        {
            p.Done.TrySetResult(changed);
        }
        else
        {
            p.Done.TrySetException(failure);
        }
    }

    private SqliteConnection Reconnect(SqliteConnection? broken)
    {
        ForgetPrepared();
        broken?.Dispose();
        return OpenConnection();
    }

    private void ForgetPrepared()
    {
        foreach (SqliteCommand command in _prepared.Values)
        {
            command.Dispose();
        }
        _prepared.Clear();
    }

    /// <summary>
    /// Commits a group in one transaction. When it fails, each of its rows is tried again in a
    /// transaction of its own, so a bad row fails only its own waiter and the deliveries beside
    /// it are still recorded; a journal that cannot write at all (disk full) fails each of them.
    /// </summary>
    private void WriteGroup(SqliteConnection connection, List<Pending> group)
    {
        var settling = new List<Pending>();
        try
        {
            WriteGroup(connection, group, settling);
        }
        finally
        {
            SettleLater(settling);
        }
    }

    private void WriteGroup(SqliteConnection connection, List<Pending> group, List<Pending> settling)
    {
        Exception? failure;
        try
        {
            int[] changed = Commit(connection, group);
            for (int i = 0; i < group.Count; i++)
            {
                Finish(group[i], changed[i], null, settling);
            }
            return;
        }
        catch (Exception e)
        {
            failure = e;
        }
        if (group.Count == 1)
        {
            // Note: a journal that cannot write (disk full, I/O error) must stop deletions: the
            // waiter sees the failure and keeps its message.
            LogWriteFailed(_logger, 1, 1, failure.Message);
            Finish(group[0], 0, failure, settling);
            return;
        }
        int failed = 0;
        foreach (Pending p in group)
        {
            int changed;
            try
            {
                changed = Commit(connection, [p])[0];
            }
            catch (Exception e)
            {
                failed++;
                failure = e;
                Finish(p, 0, e, settling);
                continue;
            }
            Finish(p, changed, null, settling);
        }
        if (failed > 0)
        {
            LogWriteFailed(_logger, failed, group.Count, failure.Message);
        }
    }

    private int[] Commit(SqliteConnection connection, List<Pending> group)
    {
        using SqliteTransaction tx = connection.BeginTransaction();
        int[] changed = new int[group.Count];
        for (int i = 0; i < group.Count; i++)
        {
            changed[i] = Execute(connection, tx, group[i]);
        }
        tx.Commit();
        return changed;
    }

    private int Execute(SqliteConnection connection, SqliteTransaction tx, Pending p)
    {
        if (p.Step is { } step)
        {
            return step(connection, tx);
        }
        Statement statement = p.Statement!;
        if (p.Values.Length != statement.Parameters.Count)
        {
            throw new ArgumentException($"{p.Values.Length} value(s) for {statement.Parameters.Count} parameter(s): {statement.Sql}");
        }
        if (!_prepared.TryGetValue(statement, out SqliteCommand? command))
        {
            command = connection.CreateCommand();
            command.CommandText = statement.Sql;
            foreach ((string name, SqliteType type) in statement.Parameters)
            {
                command.Parameters.Add(name, type);
            }
            _prepared[statement] = command;
        }
        command.Transaction = tx;
        for (int i = 0; i < p.Values.Length; i++)
        {
            command.Parameters[i].Value = p.Values[i] ?? DBNull.Value;
        }
        return command.ExecuteNonQuery();
    }

    private static readonly Statement InsertProbe = new(
        "INSERT INTO probes (at, tenant, host, up, stage, code, reply, latency_ms, tls, max_size) VALUES ($at, $tenant, $host, $up, $stage, $code, $reply, $latency, $tls, $max)",
        ("$at", SqliteType.Integer), ("$tenant", SqliteType.Text), ("$host", SqliteType.Text), ("$up", SqliteType.Integer), ("$stage", SqliteType.Text),
        ("$code", SqliteType.Integer), ("$reply", SqliteType.Text), ("$latency", SqliteType.Real), ("$tls", SqliteType.Integer), ("$max", SqliteType.Integer));

    public Task RecordProbeAsync(ProbeRecord r) => Enqueue(InsertProbe,
        r.At.ToUnixTimeMilliseconds(), r.TenantId, r.Host, r.Up ? 1 : 0, r.Stage, r.Code, r.Reply, r.LatencyMs, r.Tls ? 1 : 0, r.MaxSize);

    private static readonly Statement InsertArrival = new(
        "INSERT OR IGNORE INTO arrivals (at, tenant, mailbox, message, size) VALUES ($at, $tenant, $mailbox, $message, $size)",
        ("$at", SqliteType.Integer), ("$tenant", SqliteType.Text), ("$mailbox", SqliteType.Text), ("$message", SqliteType.Text), ("$size", SqliteType.Integer));

    public Task RecordArrivalAsync(string tenantId, string mailbox, string message, long size, DateTimeOffset at) =>
        Enqueue(InsertArrival, at.ToUnixTimeMilliseconds(), tenantId, mailbox, message, size);

    private static readonly Statement InsertHandOver = new(
        "INSERT INTO handovers (at, tenant, mailbox, message, size, sender, recipient, host, outcome, stage, code, reply, attempt, duration_ms) " +
        "VALUES ($at, $tenant, $mailbox, $message, $size, $sender, $recipient, $host, $outcome, $stage, $code, $reply, $attempt, $duration)",
        ("$at", SqliteType.Integer), ("$tenant", SqliteType.Text), ("$mailbox", SqliteType.Text), ("$message", SqliteType.Text), ("$size", SqliteType.Integer),
        ("$sender", SqliteType.Text), ("$recipient", SqliteType.Text), ("$host", SqliteType.Text), ("$outcome", SqliteType.Text), ("$stage", SqliteType.Text),
        ("$code", SqliteType.Integer), ("$reply", SqliteType.Text), ("$attempt", SqliteType.Integer), ("$duration", SqliteType.Real));

    /// <summary>Records one attempt. For a delivery, the returned task completing means it is on disk.</summary>
    public Task RecordHandOverAsync(HandOverRecord r) => Enqueue(InsertHandOver,
        Now(), r.TenantId, r.Mailbox, r.Message, r.Size, r.Sender, r.Recipient, r.Host, r.Outcome, r.Stage, r.Code, r.Reply, r.Attempt, r.DurationMs);

    /// <summary>
    /// Records one attempt and runs <paramref name="settle"/> once the row is durable (with null)
    /// or could not be written (with why): after the commit of its group, with the group's other
    /// settlements in one pool work item; at once, on the caller's thread, when the journal
    /// refuses the write outright (closed, or its writer stopped). The returned task completes
    /// after <paramref name="settle"/> ran, faulted when the write or <paramref name="settle"/> failed.
    /// </summary>
    public Task RecordHandOverAsync(HandOverRecord r, Action<Exception?> settle) => Enqueue(new Pending(InsertHandOver,
        [Now(), r.TenantId, r.Mailbox, r.Message, r.Size, r.Sender, r.Recipient, r.Host, r.Outcome, r.Stage, r.Code, r.Reply, r.Attempt, r.DurationMs],
        // Note: completed on the settling work item, after the settlement: its continuations
        // (the run's count of records) may run there too, no further work item each.
        new TaskCompletionSource<int>()) { Settle = settle });

    /// <summary>
    /// Runs a read-only query on its own connection (readers never block the writer in WAL mode).
    /// Private: every read is a typed method of the journal's partial files, so the schema is
    /// known here only (docs/ARCHITECTURE.md, the journal).
    /// </summary>
    private List<T> Query<T>(string sql, Action<SqliteCommand> bind, Func<SqliteDataReader, T> map)
    {
        Interlocked.Increment(ref _readQueries);
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
    public Task FlushAsync() => Enqueue(Flush);

    private static readonly Statement Flush = new("SELECT 1");

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writerDone.Task;
        SqliteConnection.ClearAllPools();
    }

    [LoggerMessage(EventId = 1301, Level = LogLevel.Error, Message = "journal write of {Failed} of {Count} record(s) failed: {Reason}; the affected messages stay in their mailboxes")]
    private static partial void LogWriteFailed(ILogger logger, int failed, int count, string reason);

    [LoggerMessage(EventId = 1304, Level = LogLevel.Warning, Message = "journal write refused: {Reason}")]
    private static partial void LogWriteRefused(ILogger logger, string reason);

    [LoggerMessage(EventId = 1305, Level = LogLevel.Critical, Message = "the journal writer stopped: {Reason}; every later write fails")]
    private static partial void LogWriterStopped(ILogger logger, string reason);
}
