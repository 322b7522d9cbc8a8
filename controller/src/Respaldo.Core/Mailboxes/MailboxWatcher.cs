using Microsoft.Extensions.Logging;
using Respaldo.Configuration;
using Respaldo.Health;

namespace Respaldo.Mailboxes;

/// <summary>
/// Keeps <see cref="MailboxIndex"/> current. One inotify watch tree (FileSystemWatcher over
/// the maildir root) reports arrivals within milliseconds and costs nothing while nothing
/// happens; a full rescan runs at start, whenever inotify loses events (queue overflow), and
/// every <c>controller.rescanIntervalSeconds</c> as a safety net. Idle cost does not grow
/// with the number of mailboxes: 10,000 empty mailboxes are 10,000 idle watches, not
/// 10,000 listings a second.
/// </summary>
public sealed partial class MailboxWatcher : IDisposable
{
    private volatile MaildirLayout _layout;
    private readonly MailboxIndex _index;
    private volatile MailboxScanner _scanner;
    private readonly Func<IReadOnlyList<WaitingMessage>, Reconciled> _reconcile;
    private TimeSpan _rescanInterval;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _rescanRequested = new(0, 1);
    private FileSystemWatcher? _watcher;
    private readonly Func<long?> _maxWatches;

    /// <summary>1 once the inotify ceiling was reported, until a scan finds the tree within it again (reported once, not per directory).</summary>
    private int _overLimit;

    /// <summary>Whether the maildirs need more inotify watches than the kernel allows: new mail in the unwatched part waits for a rescan.</summary>
    public bool OverWatchLimit => Volatile.Read(ref _overLimit) == 1;

    /// <param name="reconcile">
    /// Asked about the messages a scan finds that the index did not know, a batch at a time
    /// (at most <see cref="ReconcileBatch"/>); returns those still to hand over, leaving out what
    /// was already dealt with (handed over before a crash, say), and which of them the journal
    /// already records as arrived (added without being announced again).
    /// </param>
    /// <param name="maxWatches">The kernel's ceiling on inotify watches (<see cref="InotifyLimit.Read"/> unless a test gives one).</param>
    public MailboxWatcher(MaildirLayout layout, MailboxIndex index, Func<IReadOnlyList<WaitingMessage>, Reconciled> reconcile, TimeSpan rescanInterval, ILogger logger, StrayEntries? strays = null, Func<long?>? maxWatches = null)
    {
        _maxWatches = maxWatches ?? (() => InotifyLimit.Read());
        _layout = layout;
        _index = index;
        Strays = strays ?? new StrayEntries(logger);
        _scanner = new MailboxScanner(layout, Strays);
        _reconcile = reconcile;
        _rescanInterval = rescanInterval;
        _logger = logger;
    }

    /// <summary>
    /// After a reload: the tenant map (which domain is whose) and the rescan interval to use
    /// from now on. The maildir root cannot change while running (it lives in the state directory).
    /// </summary>
    public void Use(MaildirLayout layout, TimeSpan rescanInterval)
    {
        if (layout.Root != _layout.Root)
        {
            throw new ArgumentException($"the maildir root cannot change while running ({_layout.Root} → {layout.Root})", nameof(layout));
        }
        _scanner = new MailboxScanner(layout, Strays);
        _layout = layout;
        _rescanInterval = rescanInterval;
    }

    /// <summary>How many full scans have run (the first at start); a reload that keeps the tenant map adds none.</summary>
    public int Scans => _scans;

    private int _scans;

    /// <summary>Completes once the first full scan is in the index.</summary>
    public Task Ready => _ready.Task;

    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int LastScanMailboxes { get; private set; }

    /// <summary>What in the maildirs is not a message (reported once each).</summary>
    public StrayEntries Strays { get; }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // Note: watch first, then scan, so nothing that arrives during the scan is missed.
        StartWatching();
        Heartbeat?.Beat(ScanAllowance);
        FullScan("at start");
        _ready.TrySetResult();
        while (!cancellationToken.IsCancellationRequested)
        {
            bool requested;
            try
            {
                requested = await WaitForRescanAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            Heartbeat?.Beat(ScanAllowance);
            if (_watcher is null)
            {
                StartWatching();
            }
            FullScan(requested ? "requested" : "periodic");
        }
    }

    /// <summary>Proof of life for the systemd watchdog (set by the supervisor); beats while waiting and before each scan.</summary>
    public Heartbeat? Heartbeat { get; set; }

    // Note: a full scan of many thousands of maildirs on a slow disk takes minutes, not hours.
    private static readonly TimeSpan ScanAllowance = TimeSpan.FromMinutes(15);

    /// <summary>Waits for a requested rescan (true) or the rescan interval (false), beating every few seconds meanwhile.</summary>
    private async Task<bool> WaitForRescanAsync(CancellationToken cancellationToken)
    {
        TimeSpan beat = Heartbeat.LoopInterval;
        DateTime until = DateTime.UtcNow + _rescanInterval;
        while (true)
        {
            TimeSpan left = until - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                return false;
            }
            Heartbeat?.Beat(beat + TimeSpan.FromSeconds(25));
            if (await _rescanRequested.WaitAsync(left < beat ? left : beat, cancellationToken))
            {
                return true;
            }
        }
    }

    /// <summary>Asks for a full scan soon (after an overflow, or from an admin command).</summary>
    public void RequestRescan()
    {
        if (_rescanRequested.CurrentCount == 0)
        {
            try
            {
                _rescanRequested.Release();
            }
            catch (SemaphoreFullException)
            {
                // Note: a rescan is already pending; one is enough.
            }
        }
    }

    private void StartWatching()
    {
        Directory.CreateDirectory(_layout.Root);
        try
        {
            var watcher = new FileSystemWatcher(_layout.Root)
            {
                IncludeSubdirectories = true,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName,
                // Note: the largest buffer .NET allows; a burst of deliveries must not overflow it.
                InternalBufferSize = 64 * 1024,
            };
            watcher.Created += (_, e) => OnAppeared(e.FullPath);
            watcher.Renamed += (_, e) => OnRenamed(e.OldFullPath, e.FullPath);
            watcher.Deleted += (_, e) => OnDeleted(e.FullPath);
            watcher.Error += (_, e) => OnError(e.GetException());
            watcher.EnableRaisingEvents = true;
            _watcher = watcher;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // Note: too few inotify watches (fs.inotify.max_user_watches) degrades to polling
            // at the rescan interval; mail is still found, only later.
            LogWatchFailed(_logger, _layout.Root, e.Message);
            _watcher = null;
        }
    }

    private void OnAppeared(string path)
    {
        if (IsStray(path))
        {
            return;
        }
        if (Directory.Exists(path))
        {
            // Note: a new maildir (first delivery to an address) can receive its first file
            // before inotify watches its new/ (Dovecot creates the directories and renames the
            // file in within microseconds). Look inside now, and again shortly, rather than
            // leave that message to the next full rescan.
            LookInside(path);
            _ = Task.Delay(TimeSpan.FromSeconds(1)).ContinueWith(_ => LookInside(path), TaskScheduler.Default);
            _ = Task.Delay(TimeSpan.FromSeconds(5)).ContinueWith(_ => LookInside(path), TaskScheduler.Default);
            return;
        }
        WaitingMessage? message = _layout.Describe(path);
        if (message is not null && File.Exists(path))
        {
            _index.Upsert(message);
        }
    }

    private void LookInside(string directory)
    {
        foreach (string entry in SafeFiles(directory))
        {
            if (!Directory.Exists(entry))
            {
                OnAppeared(entry);
            }
        }
    }

    private void OnRenamed(string oldPath, string newPath)
    {
        (string TenantId, string Key)? old = _layout.KeyOf(oldPath);
        WaitingMessage? now = _layout.Describe(newPath);
        if (old is { } o && (now is null || now.Key != o.Key))
        {
            _index.Remove(o.TenantId, o.Key, onlyAtPath: oldPath);
        }
        if (now is not null && !IsStray(newPath) && File.Exists(newPath))
        {
            _index.Upsert(now);
        }
    }

    /// <summary>True (and reported once) when a name where a message would be is not a regular file.</summary>
    private bool IsStray(string path)
    {
        if (_layout.KeyOf(path) is not { } key || MaildirEntry.NotARegularFile(path) is not { } what)
        {
            return false;
        }
        Strays.Report(key.TenantId, key.Key[..key.Key.IndexOf('/', StringComparison.Ordinal)], path, what);
        return true;
    }

    /// <summary>
    /// A file went. Note: most deletions are the echo of the hand-over's own unlinks, whose
    /// message left the index before the unlink (HandOverRun.AfterDeliveryRecorded): the path is
    /// read in place (<see cref="MaildirLayout.KeyOf"/>) and the index looked up once, nothing more.
    /// </summary>
    private void OnDeleted(string path)
    {
        Interlocked.Increment(ref _deletionsSeen);
        if (_layout.KeyOf(path) is { } gone && _index.Remove(gone.TenantId, gone.Key, onlyAtPath: path))
        {
            Interlocked.Increment(ref _deletionsDropped);
        }
    }

    private long _deletionsSeen;
    private long _deletionsDropped;

    /// <summary>Delete events seen, and how many of them dropped a message the index still held (not an echo of the hand-over's own unlink).</summary>
    internal (long Seen, long Dropped) Deletions => (Interlocked.Read(ref _deletionsSeen), Interlocked.Read(ref _deletionsDropped));

    private void OnError(Exception e)
    {
        if (InotifyLimit.IsReached(e))
        {
            // Note: a rescan adds no watch, and the watcher reports this once per directory it
            // cannot watch: say it once, and leave the unwatched part to the periodic rescan.
            if (Interlocked.Exchange(ref _overLimit, 1) == 0)
            {
                long? limit = _maxWatches();
                LogWatchLimitReached(_logger, limit ?? 0, _rescanInterval.TotalSeconds, limit is { } l ? InotifyLimit.Suggested(l) : 524_288);
            }
            return;
        }
        LogWatchOverflow(_logger, e.Message);
        RequestRescan();
    }

    /// <summary>After a scan: would the tree fit in the kernel's ceiling? Said once when it does not, and again only after it fitted.</summary>
    private void CheckWatchBudget(int domains, int mailboxes)
    {
        if (_maxWatches() is not { } limit)
        {
            return;
        }
        long needed = InotifyLimit.WatchesFor(domains, mailboxes);
        if (needed <= limit)
        {
            Interlocked.Exchange(ref _overLimit, 0);
        }
        else if (Interlocked.Exchange(ref _overLimit, 1) == 0)
        {
            LogWatchesShort(_logger, needed, limit, _rescanInterval.TotalSeconds, InotifyLimit.Suggested(needed));
        }
    }

    /// <summary>Reads every maildir and makes the index match it.</summary>
    public void FullScan() => FullScan("requested");

    /// <summary>The same, logged with why it ran: at start, periodic (rescanIntervalSeconds), requested (an inotify overflow, a reload that changed the tenant map).</summary>
    private void FullScan(string why)
    {
        MailboxScanner scanner = _scanner;
        MaildirLayout layout = _layout;
        int mailboxes = 0;
        var seen = new HashSet<(string, string)>();
        var domains = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var unknown = new List<WaitingMessage>();
        foreach ((string tenantId, string mailbox, List<WaitingMessage> messages) in scanner.Scan())
        {
            mailboxes++;
            seen.Add((tenantId, mailbox));
            domains.Add(MailAddress.DomainOf(mailbox));
            var known = new List<WaitingMessage>(messages.Count);
            foreach (WaitingMessage m in messages)
            {
                (_index.Contains(tenantId, m.Key) ? known : unknown).Add(m);
            }
            _index.ReplaceMailbox(tenantId, mailbox, known);
            if (unknown.Count >= ReconcileBatch)
            {
                AddUnknown(unknown);
            }
        }
        AddUnknown(unknown);
        foreach ((string tenantId, string mailbox) in _index.KnownMailboxes())
        {
            if (seen.Contains((tenantId, mailbox)))
            {
                continue;
            }
            // Note: a reload gave the mailbox's domain to another tenant (or to nobody): its
            // files are that tenant's now (the scan above listed them there) or orphans, never
            // this one's, whose loop would otherwise hand them over a second time.
            if (layout.TenantForDomain(MailAddress.DomainOf(mailbox))?.Id != tenantId)
            {
                _index.ForgetMailbox(tenantId, mailbox);
            }
            else
            {
                _index.ReplaceMailbox(tenantId, mailbox, []);
            }
        }
        LastScanMailboxes = mailboxes;
        CheckWatchBudget(domains.Count, mailboxes);
        Strays.RetainOnly(scanner.LastStrays);
        int scans = Interlocked.Increment(ref _scans);
        LogScanned(_logger, scans, why, mailboxes);
    }

    /// <summary>
    /// Files the index did not know go in once reconciliation let them (one journal query per
    /// batch, not one per file). Note: an inotify arrival or a rename by Dovecot in between is
    /// already in the index, with a newer path than the scan's: it is left as it is.
    /// </summary>
    private void AddUnknown(List<WaitingMessage> unknown)
    {
        if (unknown.Count == 0)
        {
            return;
        }
        Reconciled reconciled = _reconcile(unknown);
        foreach (WaitingMessage m in reconciled.Fresh)
        {
            // Note: a file the journal already has an arrival row for arrived before a restart
            // (or a missed inotify event): announced then, not again (a million waiting were a
            // million journal inserts and "mail arrived" events per start).
            _index.AddIfAbsent(m, announce: !reconciled.Recorded.Contains(m.Key));
        }
        unknown.Clear();
    }

    /// <summary>Files the index did not know, reconciled together: bounds what a scan holds besides the index.</summary>
    public const int ReconcileBatch = 10_000;

    private static string[] SafeFiles(string dir)
    {
        try
        {
            return Directory.GetFileSystemEntries(dir, "*", SearchOption.AllDirectories);
        }
        catch (Exception e) when (e is DirectoryNotFoundException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _rescanRequested.Dispose();
    }

    [LoggerMessage(EventId = 1104, Level = LogLevel.Information, Message = "full scan #{Scan} ({Why}): {Mailboxes} mailbox(es) read")]
    private static partial void LogScanned(ILogger logger, int scan, string why, int mailboxes);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "cannot watch {Root} with inotify ({Reason}); falling back to rescans only")]
    private static partial void LogWatchFailed(ILogger logger, string root, string reason);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Error, Message = "the maildirs need about {Needed} inotify watches but fs.inotify.max_user_watches is {Limit}: new mail in the directories left unwatched is found only by the rescan every {Seconds} s; raise it (sysctl -w fs.inotify.max_user_watches={Suggested}, and the same line in /etc/sysctl.d/) and restart")]
    private static partial void LogWatchesShort(ILogger logger, long needed, long limit, double seconds, long suggested);

    [LoggerMessage(EventId = 1106, Level = LogLevel.Error, Message = "inotify cannot watch more directories (fs.inotify.max_user_watches is {Limit}): new mail in the directories left unwatched is found only by the rescan every {Seconds} s; raise it (sysctl -w fs.inotify.max_user_watches={Suggested}, and the same line in /etc/sysctl.d/) and restart")]
    private static partial void LogWatchLimitReached(ILogger logger, long limit, double seconds, long suggested);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "inotify lost events ({Reason}); rescanning every maildir")]
    private static partial void LogWatchOverflow(ILogger logger, string reason);
}
