using System.Diagnostics;
using Respaldo.Journaling;
using Microsoft.Extensions.Logging;
using Respaldo.Configuration;
using Respaldo.HandOver;
using Respaldo.Holds;
using Respaldo.Mailboxes;
using Respaldo.Primary;
using Respaldo.Events;
using Respaldo.Health;

namespace Respaldo.Supervision;

/// <summary>
/// The controller as a whole: the mailbox watcher, one <see cref="TenantSupervisor"/> per
/// tenant, and the wiring between them and the journal. One for the life of the process: a
/// reload is <see cref="Apply"/>, which keeps the index, every tenant's retry times and what
/// it knows of its primary. Knows nothing of hosting: the daemon runs <see cref="RunAsync"/>, tests may too.
/// </summary>
public sealed partial class Supervisor : IDisposable
{
    private readonly Lock _gate = new();
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly PortChecks _portChecks;
    private volatile RespaldoSettings _settings;
    private volatile MaildirLayout _layout;
    // Note: replaced whole by a reload, never changed in place: readers take it without a lock.
    private volatile Dictionary<string, TenantSupervisor> _tenants;
    private readonly Dictionary<TenantSupervisor, TenantLoop> _loops = [];
    private (CancellationToken Stopping, CancellationToken Abort)? _run;

    /// <summary>A tenant's running loop: its own stop (a removal stops only it) and abort (the grace after it).</summary>
    private sealed record TenantLoop(CancellationTokenSource Stop, CancellationTokenSource Abort, Task Task);

    public Supervisor(RespaldoSettings settings, Journal journal, ControllerEvents events, ILoggerFactory loggers, TimeProvider time)
    {
        _logger = loggers.CreateLogger("Respaldo.Controller");
        _time = time;
        _portChecks = new PortChecks(time);
        Slots = new ConnectionSlots(settings.Controller.MaxConnections);
        _settings = settings;
        Journal = journal;
        Events = events;
        _layout = new MaildirLayout(settings.MaildirRoot, new TenantDirectory(settings.Tenants));
        Index = new MailboxIndex(settings.Tenants.Select(t => t.Id));
        Holds = new HoldArea(settings.HoldRoot);
        ILogger mailboxLogger = loggers.CreateLogger("Respaldo.Mailboxes");
        Strays = new StrayEntries(mailboxLogger);
        var prober = new PrimaryProber(settings.Hostname, settings.Controller.CommandTimeout, time);
        _tenants = settings.Tenants.ToDictionary(t => t.Id, t => NewTenant(t, settings, prober), StringComparer.Ordinal);
        Watcher = new MailboxWatcher(_layout, Index, Reconcile, settings.Controller.RescanInterval, mailboxLogger, Strays);
        Watcher.Heartbeat = new Heartbeat("mailbox watcher", time);
        Index.Arrived += OnArrived;
    }

    public RespaldoSettings Settings => _settings;
    public Journal Journal { get; }
    public MaildirLayout Layout => _layout;
    public MailboxIndex Index { get; }
    public ControllerEvents Events { get; }
    public HoldArea Holds { get; }
    public MailboxWatcher Watcher { get; }

    /// <summary>Stored copies no configured tenant owns (a removed tenant or domain), counted at start and after each reload; kept, never handed over.</summary>
    public IReadOnlyList<OrphanedMail> Orphans { get; private set; } = [];

    /// <summary>What in the maildirs is not a message (FIFOs, directories, symlinks), reported once each.</summary>
    public StrayEntries Strays { get; }

    public IReadOnlyCollection<TenantSupervisor> Tenants => _tenants.Values;

    public TenantSupervisor? Find(string tenantId) => _tenants.GetValueOrDefault(tenantId);

    /// <summary>Every loop's proof of life: the systemd watchdog pings only while none is overdue.</summary>
    public IEnumerable<Heartbeat> Heartbeats =>
        _tenants.Values.Select(t => t.Heartbeat).Append(Watcher.Heartbeat!).Append(Journal.WriterHeartbeat);

    /// <summary>The node's hand-over connections, one for the life of the process; a reload sets its limit.</summary>
    public ConnectionSlots Slots { get; }

    private HandOverContext ContextFor(RespaldoSettings settings, RetrySchedule retries) =>
        new(settings, Journal, Index, Holds, retries, Events, _time, _logger) { Strays = Strays, PortChecks = _portChecks, Slots = Slots };

    private TenantSupervisor NewTenant(Tenant tenant, RespaldoSettings settings, PrimaryProber prober) =>
        new(tenant, ContextFor(settings, new RetrySchedule(settings.Controller.RetryMax)), prober);

    /// <summary>
    /// A reload: the new settings apply to what runs. Tenants kept keep their loop, their retry
    /// times and what they know of their primary, and take their new settings at the loop's next
    /// turn; new tenants start; removed ones stop starting messages and finish the one in flight
    /// (within dataTimeout), their mail left on disk for nobody. The index is kept: a full scan
    /// runs only when the tenant map (which domain is whose) changed.
    /// </summary>
    public void Apply(RespaldoSettings settings)
    {
        bool rescan;
        List<string> added = [];
        List<string> removed = [];
        lock (_gate)
        {
            RespaldoSettings before = _settings;
            if (settings.StateDirectory != before.StateDirectory)
            {
                throw new ArgumentException("the state directory cannot change while running", nameof(settings));
            }
            rescan = TenantMap(settings) != TenantMap(before);
            var prober = new PrimaryProber(settings.Hostname, settings.Controller.CommandTimeout, _time);
            Slots.SetLimit(settings.Controller.MaxConnections);
            var tenants = new Dictionary<string, TenantSupervisor>(StringComparer.Ordinal);
            foreach (Tenant tenant in settings.Tenants)
            {
                if (_tenants.TryGetValue(tenant.Id, out TenantSupervisor? kept))
                {
                    kept.Apply(tenant, ContextFor(settings, kept.Retries), prober);
                    tenants[tenant.Id] = kept;
                }
                else
                {
                    tenants[tenant.Id] = NewTenant(tenant, settings, prober);
                    added.Add(tenant.Id);
                }
            }
            removed.AddRange(_tenants.Keys.Where(id => !tenants.ContainsKey(id)));
            _settings = settings;
            _layout = new MaildirLayout(settings.MaildirRoot, new TenantDirectory(settings.Tenants));
            Index.UseTenants(tenants.Keys);
            Watcher.Use(_layout, settings.Controller.RescanInterval);
            Dictionary<string, TenantSupervisor> old = _tenants;
            _tenants = tenants;
            foreach (string id in removed)
            {
                StopLoop(old[id]);
                LogTenantRemoved(_logger, id);
            }
            foreach (string id in added)
            {
                StartLoop(tenants[id]);
                LogTenantAdded(_logger, id);
            }
        }
        Orphans = FindOrphans(settings);
        if (rescan)
        {
            LogRescanAfterReload(_logger);
            Watcher.RequestRescan();
        }
        else
        {
            LogIndexKept(_logger, Watcher.Scans);
        }
        if (added.Count > 0)
        {
            _ = AdoptAfterReloadAsync();
        }
    }

    /// <summary>A tenant added back may find files in its hold area without a row: adopted as at start; a failure is logged, the reload stands.</summary>
    private async Task AdoptAfterReloadAsync()
    {
        try
        {
            await AdoptUnrecordedHoldsAsync();
        }
#pragma warning disable CA1031 // Note: not swallowed: logged; at start the same failure stops the daemon.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogAdoptFailed(_logger, e.Message);
        }
    }

    /// <summary>Stored copies no configured tenant owns, counted at start and after each reload.</summary>
    private static IReadOnlyList<OrphanedMail> FindOrphans(RespaldoSettings settings) =>
        OrphanedMailFinder.Find(settings.MaildirRoot, settings.HoldRoot, new TenantDirectory(settings.Tenants), settings.Tenants.Select(t => t.Id));

    /// <summary>Which domain belongs to which tenant: what the index is keyed by. A change of anything else needs no rescan.</summary>
    private static string TenantMap(RespaldoSettings settings) => string.Join('\n', settings.Tenants
        .Select(t => t.Id + ":" + string.Join(',', t.Domains.Select(d => (d.IncludesSubdomains ? "*." : "") + d.Domain.ToLowerInvariant()).Order(StringComparer.Ordinal)))
        .Order(StringComparer.Ordinal));

    /// <summary>Starts a tenant's loop if the supervisor runs (under <see cref="_gate"/>).</summary>
    private void StartLoop(TenantSupervisor tenant)
    {
        if (_run is not { } run)
        {
            return;
        }
        var stop = CancellationTokenSource.CreateLinkedTokenSource(run.Stopping);
        var abort = CancellationTokenSource.CreateLinkedTokenSource(run.Abort);
        TimeSpan grace = _settings.Controller.DataTimeout;
        // Note: a removal (stop) starts no new message; the one in flight gets dataTimeout more
        // before abort cuts it, and is never cut after its final dot.
        stop.Token.Register(() => abort.CancelAfter(grace));
        _loops[tenant] = new TenantLoop(stop, abort, tenant.RunAsync(stop.Token, abort.Token));
    }

    /// <summary>Stops a removed tenant's loop after its message in flight (under <see cref="_gate"/>); disposed once it ended.</summary>
    private void StopLoop(TenantSupervisor tenant)
    {
        if (!_loops.TryGetValue(tenant, out TenantLoop? loop))
        {
            tenant.Dispose();
            return;
        }
        loop.Stop.Cancel();
        _ = loop.Task.ContinueWith(_ =>
        {
            lock (_gate)
            {
                _loops.Remove(tenant);
            }
            loop.Stop.Dispose();
            loop.Abort.Dispose();
            tenant.Dispose();
        }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    /// <summary>
    /// Runs the watcher and every tenant's loop until cancelled. A tenant's loop restarts itself
    /// after a failure (<see cref="TenantSupervisor.RunAsync"/>), so one tenant never stops
    /// another; the watcher's failure (a broken environment: the maildirs cannot be read) stops
    /// them all and is thrown, and the daemon exits non-zero for systemd to restart it.
    /// </summary>
    public Task RunAsync(CancellationToken cancellationToken) => RunAsync(cancellationToken, cancellationToken);

    /// <summary>
    /// As above, in two steps: <paramref name="stopping"/> (a stop) ends the waits and starts no
    /// new message; the messages in flight go on to their end and are journaled before this
    /// returns, unless <paramref name="abort"/> cuts them first (never after a final dot).
    /// </summary>
    public async Task RunAsync(CancellationToken stopping, CancellationToken abort)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        RespaldoSettings settings = _settings;
        Orphans = FindOrphans(settings);
        foreach (OrphanedMail orphan in Orphans)
        {
            LogOrphaned(_logger, orphan.Place, orphan.Name, orphan.Messages);
        }
        await AdoptUnrecordedHoldsAsync();
        Task watcher = Watcher.RunAsync(linked.Token);
        await Task.WhenAny(Watcher.Ready, watcher);
        lock (_gate)
        {
            _run = (linked.Token, abort);
            foreach (TenantSupervisor tenant in _tenants.Values)
            {
                StartLoop(tenant);
            }
        }
        _ = Task.Run(SettleAfterStartScanAsync, CancellationToken.None);
        var stopped = new TaskCompletionSource();
        using (stopping.Register(() => stopped.TrySetResult()))
        {
            await Task.WhenAny(watcher, stopped.Task);
        }
        await linked.CancelAsync();
        List<Task> loops;
        lock (_gate)
        {
            _run = null;
            loops = _loops.Values.Select(l => l.Task).ToList();
        }
        try
        {
            await Task.WhenAll(loops);
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            // Normal shutdown (or the watcher's failure, thrown below).
        }
        await watcher;
    }

    /// <summary>
    /// Once the start-up scan and the arrival rows it queued are written: one compacting
    /// collection gives its garbage back to the system (<see cref="MemorySettle"/>).
    /// </summary>
    private async Task SettleAfterStartScanAsync()
    {
        // Note: WhenAny, so a journal that failed (reported where it is used) still lets the memory settle.
        await Task.WhenAny(Journal.FlushAsync());
        long started = Stopwatch.GetTimestamp();
        (long freed, long heap) = MemorySettle.Compact();
        LogMemorySettled(_logger, freed / (1024.0 * 1024.0), Stopwatch.GetElapsedTime(started).TotalMilliseconds, heap / (1024.0 * 1024.0));
    }

    /// <summary>
    /// Start-up reconciliation (and every rescan): a copy the journal records as delivered was
    /// handed over before a crash; delete it instead of sending it again. Returns the rest.
    /// Note: one journal query for the whole batch (a million files at start were a million
    /// queries, a minute or more before the first hand-over). The same query says which files
    /// already have an arrival row: they arrived before the restart and are not announced again.
    /// </summary>
    private Reconciled Reconcile(IReadOnlyList<WaitingMessage> unknown)
    {
        (IReadOnlySet<string> delivered, IReadOnlySet<string> recorded) = Journal.Known(unknown.Select(m => m.Key).ToList());
        if (delivered.Count == 0)
        {
            return new Reconciled(unknown, recorded);
        }
        var fresh = new List<WaitingMessage>(unknown.Count - delivered.Count);
        foreach (WaitingMessage message in unknown)
        {
            if (!delivered.Contains(message.Key))
            {
                fresh.Add(message);
                continue;
            }
            try
            {
                StoredCopy.Delete(message);
                LogReconciled(_logger, message.TenantId, message.Mailbox, message.BaseName);
            }
            catch (IOException e)
            {
                // Note: still "dealt with": it was delivered and must not be sent again; the next
                // scan tries the deletion again. Thrown, it would stop the watcher and every tenant.
                LogReconcileFailed(_logger, message.TenantId, message.Mailbox, message.BaseName, e.Message);
            }
        }
        return new Reconciled(fresh, recorded);
    }

    /// <summary>
    /// Start-up: a file in the hold area without a "held" row was moved there just before a
    /// crash (or its journal write failed). Nothing would ever show or send it again: record it
    /// as held, with what its trace headers still say, so it is listed, released or bounced.
    /// </summary>
    private async Task AdoptUnrecordedHoldsAsync()
    {
        await _adopting.WaitAsync();
        try
        {
            await AdoptUnrecordedHoldsOnceAsync();
        }
        finally
        {
            _adopting.Release();
        }
    }

    // Note: a reload's adoption must not run beside the start's: both would record the same file.
    private readonly SemaphoreSlim _adopting = new(1, 1);

    private Task AdoptUnrecordedHoldsOnceAsync() => UnrecordedHolds.AdoptAsync(Holds, Journal, Settings.Tenants, Strays, _logger);

    private void OnArrived(WaitingMessage message)
    {
        _ = Journal.RecordArrivalAsync(message.TenantId, message.Mailbox, message.BaseName, message.Size, message.Arrived);
        Events.Raise(new MessageArrived(message.TenantId, _time.GetUtcNow(), message));
    }

    public void Dispose()
    {
        Watcher.Dispose();
        lock (_gate)
        {
            foreach (TenantLoop loop in _loops.Values)
            {
                loop.Stop.Dispose();
                loop.Abort.Dispose();
            }
            foreach (TenantSupervisor t in _loops.Keys.Union(_tenants.Values))
            {
                t.Dispose();
            }
            _loops.Clear();
        }
        _adopting.Dispose();
    }

    [LoggerMessage(EventId = 1013, Level = LogLevel.Error, Message = "after the reload, adopting unrecorded files of the hold area failed: {Reason}")]
    private static partial void LogAdoptFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Information, Message = "tenant {Tenant} added by the reload; its loop starts")]
    private static partial void LogTenantAdded(ILogger logger, string tenant);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Warning, Message = "tenant {Tenant} removed by the reload: its loop starts no new message and ends after the one in flight; its stored mail stays on disk, owned by no tenant")]
    private static partial void LogTenantRemoved(ILogger logger, string tenant);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Information, Message = "reload changed which domain is whose: a full scan follows")]
    private static partial void LogRescanAfterReload(ILogger logger);

    [LoggerMessage(EventId = 1014, Level = LogLevel.Information, Message = "after the start-up scan: {Freed:0.0} MiB of the collector's memory returned to the system by one compacting collection ({Milliseconds:0} ms); {Heap:0.0} MiB of objects live")]
    private static partial void LogMemorySettled(ILogger logger, double freed, double milliseconds, double heap);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Information, Message = "reload kept the mailbox index, every retry time and each primary's state: no rescan (full scans so far: {Scans})")]
    private static partial void LogIndexKept(ILogger logger, int scans);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Warning, Message = "{Place}/{Name}: {Count} stored message(s) that no configured tenant owns (removed from the configuration?); kept in place, not handed over: add the domain back to a tenant to hand them over")]
    private static partial void LogOrphaned(ILogger logger, string place, string name, int count);


    [LoggerMessage(EventId = 1005, Level = LogLevel.Error, Message = "tenant {Tenant} mailbox {Mailbox} message {Message}: already handed over, but the copy cannot be deleted ({Reason}); not sent again, deletion retried at the next scan")]
    private static partial void LogReconcileFailed(ILogger logger, string tenant, string mailbox, string message, string reason);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "tenant {Tenant} mailbox {Mailbox} message {Message}: already handed over before a restart; deleted without sending again")]
    private static partial void LogReconciled(ILogger logger, string tenant, string mailbox, string message);
}
