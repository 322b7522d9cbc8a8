using Respaldo.Journaling;
using Microsoft.Extensions.Logging;
using Respaldo.Configuration;
using Respaldo.HandOver;
using Respaldo.Mailboxes;
using Respaldo.Primary;

namespace Respaldo.Supervision;

/// <summary>
/// The controller as a whole: the mailbox watcher, one <see cref="TenantSupervisor"/> per
/// tenant, and the wiring between them and the journal. Knows nothing of hosting: the
/// daemon runs <see cref="RunAsync"/>, tests may too.
/// </summary>
public sealed partial class Supervisor : IDisposable
{
    private readonly Dictionary<string, TenantSupervisor> _tenants;
    private readonly HandOverContext _context;

    public Supervisor(RespaldoSettings settings, Journal journal, ControllerEvents events, ILoggerFactory loggers, TimeProvider time)
    {
        ILogger logger = loggers.CreateLogger("Respaldo.Controller");
        var directory = new TenantDirectory(settings.Tenants);
        Layout = new MaildirLayout(settings.MaildirRoot, directory);
        Index = new MailboxIndex(settings.Tenants.Select(t => t.Id));
        Events = events;
        Holds = new HoldArea(settings.HoldRoot);
        ILogger mailboxLogger = loggers.CreateLogger("Respaldo.Mailboxes");
        Strays = new StrayEntries(mailboxLogger);
        _context = new HandOverContext(settings, journal, Index, Holds, new RetrySchedule(settings.Controller.RetryMax), Events, time, logger) { Strays = Strays };
        var prober = new PrimaryProber(settings.Hostname, settings.Controller.CommandTimeout, time);
        _tenants = settings.Tenants.ToDictionary(t => t.Id, t => new TenantSupervisor(t, _context, prober), StringComparer.Ordinal);
        Watcher = new MailboxWatcher(Layout, Index, Reconcile, settings.Controller.RescanInterval, mailboxLogger, Strays);
        Watcher.Heartbeat = new Heartbeat("mailbox watcher", time);
        Index.Arrived += OnArrived;
        Settings = settings;
        Journal = journal;
    }

    public RespaldoSettings Settings { get; }
    public Journal Journal { get; }
    public MaildirLayout Layout { get; }
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
        _tenants.Values.Select(t => t.Heartbeat).Append(Watcher.Heartbeat!);

    /// <summary>
    /// Runs the watcher and every tenant's loop until cancelled. A tenant's loop restarts itself
    /// after a failure (<see cref="TenantSupervisor.RunAsync"/>), so one tenant never stops
    /// another; the watcher's failure (a broken environment: the maildirs cannot be read) stops
    /// them all and is thrown, and the daemon exits non-zero for systemd to restart it.
    /// </summary>
    public Task RunAsync(CancellationToken cancellationToken) => RunAsync(cancellationToken, cancellationToken);

    /// <summary>
    /// As above, in two steps: <paramref name="stopping"/> (a stop, a reload) ends the waits and
    /// starts no new message; the messages in flight go on to their end and are journaled before
    /// this returns, unless <paramref name="abort"/> cuts them first (never after a final dot).
    /// </summary>
    public async Task RunAsync(CancellationToken stopping, CancellationToken abort)
    {
        CancellationToken cancellationToken = stopping;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Orphans = OrphanedMailFinder.Find(Settings.MaildirRoot, Settings.HoldRoot, new TenantDirectory(Settings.Tenants), Settings.Tenants.Select(t => t.Id));
        foreach (OrphanedMail orphan in Orphans)
        {
            LogOrphaned(_context.Logger, orphan.Place, orphan.Name, orphan.Messages);
        }
        await AdoptUnrecordedHoldsAsync();
        Task watcher = Watcher.RunAsync(linked.Token);
        await Task.WhenAny(Watcher.Ready, watcher);
        var loops = _tenants.Values.Select(t => t.RunAsync(linked.Token, abort)).Append(watcher).ToList();
        Task first = await Task.WhenAny(loops);
        await linked.CancelAsync();
        try
        {
            await Task.WhenAll(loops);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Normal shutdown.
        }
        await first;
    }

    /// <summary>
    /// Start-up reconciliation (and every rescan): a copy the journal records as delivered was
    /// handed over before a crash; delete it instead of sending it again.
    /// </summary>
    private bool Reconcile(WaitingMessage message)
    {
        if (!Journal.WasDelivered(message.Mailbox, message.BaseName))
        {
            return false;
        }
        try
        {
            DeliveredCopy.Delete(message);
        }
        catch (IOException e)
        {
            // Note: still "dealt with": it was delivered and must not be sent again; the next
            // scan tries the deletion again. Thrown, it would stop the watcher and every tenant.
            LogReconcileFailed(_context.Logger, message.TenantId, message.Mailbox, message.BaseName, e.Message);
            return true;
        }
        LogReconciled(_context.Logger, message.TenantId, message.Mailbox, message.BaseName);
        return true;
    }

    /// <summary>
    /// Start-up: a file in the hold area without a "held" row was moved there just before a
    /// crash (or its journal write failed). Nothing would ever show or send it again: record it
    /// as held, with what its trace headers still say, so it is listed, released or bounced.
    /// </summary>
    private async Task AdoptUnrecordedHoldsAsync()
    {
        if (!Directory.Exists(Holds.Root))
        {
            return;
        }
        HashSet<string> recorded = Journal.Query("SELECT path FROM holds WHERE state = 'held'", _ => { }, r => r.GetString(0)).ToHashSet(StringComparer.Ordinal);
        foreach (Configuration.Tenant tenant in Settings.Tenants)
        {
            string tenantDir = Path.Combine(Holds.Root, tenant.Id);
            if (!Directory.Exists(tenantDir))
            {
                continue;
            }
            foreach (string mailboxDir in Directory.EnumerateDirectories(tenantDir))
            {
                foreach (string file in Directory.EnumerateFiles(mailboxDir))
                {
                    if (recorded.Contains(file))
                    {
                        continue;
                    }
                    string mailbox = Path.GetFileName(mailboxDir);
                    // Note: opened like a message to hand over (O_NONBLOCK|O_NOFOLLOW, fstat): a FIFO
                    // here would block the start-up forever, a symlink could point anywhere.
                    MessageFileOpening opening = MessageFile.Open(file);
                    if (opening.State == MessageFileState.NotAMessage)
                    {
                        Strays.Report(tenant.Id, mailbox, file, opening.Reason);
                        continue;
                    }
                    byte[] head = new byte[8192];
                    long size = 0;
                    int read = 0;
                    if (opening.File is { } handle)
                    {
                        using (handle)
                        {
                            try
                            {
                                size = RandomAccess.GetLength(handle);
                                read = RandomAccess.Read(handle, head, 0);
                            }
                            catch (IOException)
                            {
                                // Unreadable: recorded with an unknown envelope; the admin sees it listed.
                            }
                        }
                    }
                    TraceHeaders.Result trace = TraceHeaders.Parse(head.AsSpan(0, read));
                    await Journal.RecordHoldAsync(new HoldRecord(tenant.Id, mailbox, Path.GetFileName(file), size, trace.Sender, trace.Recipient ?? mailbox, file,
                        "found in the hold area without a journal record (the controller stopped while holding it); the primary's reply is not known", null));
                    LogAdopted(_context.Logger, tenant.Id, mailbox, Path.GetFileName(file));
                }
            }
        }
    }

    private void OnArrived(WaitingMessage message)
    {
        _ = Journal.RecordArrivalAsync(message.TenantId, message.Mailbox, message.BaseName, message.Size, message.Arrived);
        Events.Raise(new MessageArrived(message.TenantId, _context.Time.GetUtcNow(), message));
    }

    public void Dispose()
    {
        Watcher.Dispose();
        foreach (TenantSupervisor t in _tenants.Values)
        {
            t.Dispose();
        }
    }

    [LoggerMessage(EventId = 1008, Level = LogLevel.Warning, Message = "{Place}/{Name}: {Count} stored message(s) that no configured tenant owns (removed from the configuration?); kept in place, not handed over: add the domain back to a tenant to hand them over")]
    private static partial void LogOrphaned(ILogger logger, string place, string name, int count);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "tenant {Tenant} mailbox {Mailbox} message {Message}: found in the hold area without a journal record; recorded as held")]
    private static partial void LogAdopted(ILogger logger, string tenant, string mailbox, string message);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Error, Message = "tenant {Tenant} mailbox {Mailbox} message {Message}: already handed over, but the copy cannot be deleted ({Reason}); not sent again, deletion retried at the next scan")]
    private static partial void LogReconcileFailed(ILogger logger, string tenant, string mailbox, string message, string reason);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "tenant {Tenant} mailbox {Mailbox} message {Message}: already handed over before a restart; deleted without sending again")]
    private static partial void LogReconciled(ILogger logger, string tenant, string mailbox, string message);
}
