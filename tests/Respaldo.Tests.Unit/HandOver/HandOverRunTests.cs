using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Respaldo.Configuration;
using Respaldo.HandOver;
using Respaldo.Mailboxes;
using Respaldo.Supervision;
using Respaldo.Tests.Lab;
using Respaldo.Tests.Smtp;
using Respaldo.Events;
using Respaldo.Holds;

namespace Respaldo.Tests.HandOver;

/// <summary>A hand-over run against a scripted primary, when the journal cannot record what the primary took.</summary>
public sealed class HandOverRunTests : IAsyncDisposable
{
    private readonly ScriptedPrimary _primary = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("respaldo-run-").FullName;
    private readonly RespaldoSettings _settings;
    private readonly global::Respaldo.Journaling.Journal _journal;

    public HandOverRunTests()
    {
        RespaldoSettings settings = OneTenantSettings.For(_dir, _primary.Port);
        _settings = settings;
        _journal = global::Respaldo.Journaling.Journal.Open(settings.JournalPath, NullLogger.Instance);
    }

    public async ValueTask DisposeAsync()
    {
        await _journal.DisposeAsync();
        await _primary.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private List<WaitingMessage> Store(int count) => TestMaildir.Store(_settings, 0, count, n => $"body {n}");

    [Fact]
    public async Task ADeliveryTheJournalCannotRecordKeepsItsCopyWaitsItsRetryAndStopsTheRun()
    {
        List<WaitingMessage> waiting = Store(20);
        var index = new MailboxIndex(["suempresa"]);
        foreach (WaitingMessage m in waiting)
        {
            index.Upsert(m);
        }
        // Note: the journal's seam fails every write at once, as a full disk fails them (SQLITE_FULL),
        // without waiting for the writer's group: the run sees the failure before its next message.
        _journal.RefuseWrites = new Microsoft.Data.Sqlite.SqliteException("database or disk is full", 13);
        var retries = new RetrySchedule(TimeSpan.FromMinutes(10));
        var context = new HandOverContext(_settings, _journal, index, new HoldArea(_settings.HoldRoot), retries, new ControllerEvents(), TimeProvider.System, NullLogger.Instance);
        Tenant tenant = _settings.Tenants[0];

        HandOverProgress progress = await new HandOverRun(tenant, tenant.Primary.Hosts[0], waiting, context).ExecuteAsync(CancellationToken.None);

        // Every copy is kept; those the primary took are not due again at once (they were, and each
        // pass of the supervisor delivered them again: hundreds of duplicates a minute); the run
        // stopped instead of delivering what it could not record.
        Assert.All(waiting, m => Assert.True(File.Exists(m.Path), $"{m.BaseName} was deleted"));
        int sent = _primary.Messages.Count;
        // The run stops at the first record that fails: each connection may have had one message
        // on its way by then, no more (without the stop every one of them went, pass after pass).
        Assert.InRange(sent, 1, tenant.Primary.Connections);
        DateTimeOffset now = DateTimeOffset.UtcNow;
        Assert.Equal(sent, waiting.Count(m => !retries.IsDue(m.Key, now)));
        Assert.Contains("journal cannot record", progress.StopReason, StringComparison.Ordinal);
    }

    /// <summary>
    /// Issue 14: a delivered copy leaves the index before its unlink, so the watcher's delete event
    /// for it (the echo of the hand-over's own unlink) finds nothing to drop: a lookup, never a
    /// second removal racing the hand-over's (before, the echo could come first and do the drop; how often was not measured).
    /// </summary>
    [Fact]
    public async Task TheWatchersEchoOfTheHandOversOwnUnlinksDropsNothing()
    {
        List<WaitingMessage> waiting = Store(40);
        var index = new MailboxIndex(["suempresa"]);
        var layout = new MaildirLayout(_settings.MaildirRoot, new TenantDirectory(_settings.Tenants));
        using var watcher = new MailboxWatcher(layout, index, found => new Reconciled(found), TimeSpan.FromHours(1), NullLogger.Instance);
        using var cts = new CancellationTokenSource();
        Task watching = watcher.RunAsync(cts.Token);
        await watcher.Ready.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(40, index.Totals("suempresa").Count);
        var context = new HandOverContext(_settings, _journal, index, new HoldArea(_settings.HoldRoot), new RetrySchedule(TimeSpan.FromMinutes(10)),
            new ControllerEvents(), TimeProvider.System, NullLogger.Instance);
        Tenant tenant = _settings.Tenants[0];

        HandOverProgress progress = await new HandOverRun(tenant, tenant.Primary.Hosts[0], index.OldestFirst("suempresa"), context)
            .ExecuteAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(40, progress.Delivered);
        Assert.All(waiting, m => Assert.False(File.Exists(m.Path)));
        for (int i = 0; i < 100 && watcher.Deletions.Seen < 40; i++)
        {
            await Task.Delay(50);
        }
        Assert.Equal((40L, 0L), watcher.Deletions);
        Assert.Equal(0, index.Totals("suempresa").Count);
        await cts.CancelAsync();
        await watching;
    }

    /// <summary>
    /// Issue 16: before, a FIFO blocked the hand-over in open(2) forever, and a directory threw out
    /// of the run and stopped every tenant. Each is settled alone now, and the good messages go.
    /// </summary>
    [Fact]
    public async Task AFifoADirectoryASymlinkAndAnUnreadableFileAmongGoodMessagesDoNotStopTheHandOver()
    {
        List<WaitingMessage> good = Store(4);
        string maildir = good[0].MaildirPath;
        string newDir = Path.Combine(maildir, "new");
        string outside = Path.Combine(_dir, "outside-secret");
        File.WriteAllText(outside, "Return-Path: <sender@example.org>\nDelivered-To: info@suempresa.test\n\nSubject: secret\n\nTOP-SECRET\n");
        string fifo = Path.Combine(newDir, "1795805190.M1P1.vm,S=300,W=310");
        Assert.Equal(0, Mono.Unix.Native.Syscall.mkfifo(fifo, Mono.Unix.Native.FilePermissions.S_IRUSR | Mono.Unix.Native.FilePermissions.S_IWUSR));
        string dir = Path.Combine(newDir, "1795805191.M1P1.vm,S=300,W=310");
        Directory.CreateDirectory(dir);
        string link = Path.Combine(newDir, "1795805192.M1P1.vm,S=300,W=310");
        File.CreateSymbolicLink(link, outside);
        string unreadable = Path.Combine(newDir, "1795805193.M1P1.vm,S=300,W=310");
        File.WriteAllText(unreadable, File.ReadAllText(good[0].Path));
        // Strays interleaved with good messages, oldest first, as an index that believed them messages would list them.
        List<WaitingMessage> waiting = [good[0], Waiting(fifo), good[1], Waiting(dir), good[2], Waiting(link), Waiting(unreadable), good[3]];
        var index = new MailboxIndex(["suempresa"]);
        foreach (WaitingMessage m in waiting)
        {
            index.Upsert(m);
        }
        var logger = new ListLogger();
        var context = new HandOverContext(_settings, _journal, index, new HoldArea(_settings.HoldRoot), new RetrySchedule(TimeSpan.FromMinutes(10)),
            new ControllerEvents(), TimeProvider.System, logger)
        {
            // Note: the tests run as root, who reads any file: the seam gives this one the EACCES the mail user gets.
            OpenFile = (path, flags) => path == unreadable ? (-1, Mono.Unix.Native.Errno.EACCES) : SystemOpen(path, flags),
        };
        Tenant tenant = _settings.Tenants[0];

        HandOverProgress progress = await new HandOverRun(tenant, tenant.Primary.Hosts[0], waiting, context)
            .ExecuteAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(4, _primary.Messages.Count);
        Assert.DoesNotContain(_primary.Messages, m => Encoding.ASCII.GetString(m).Contains("TOP-SECRET", StringComparison.Ordinal));
        Assert.Equal((4, 1, 3, 0), (progress.Delivered, progress.Held, progress.Skipped, progress.Deferred));
        // The strays are left where they are, untouched; the unreadable copy waits in the hold area.
        Assert.True(File.Exists(fifo) && Directory.Exists(dir) && new FileInfo(link).LinkTarget == outside);
        Assert.True(File.Exists(Path.Combine(_settings.HoldRoot, "suempresa", "info@suempresa.test", Path.GetFileName(unreadable))));
        Assert.Equal(["a FIFO", "a directory", "a symbolic link"], logger.Lines.Where(l => l.EventId == 1103).Select(l => l.Text.Split(": ")[1].Split(',')[0]));
        Assert.All(logger.Lines.Where(l => l.EventId == 1103), l => Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, l.Level));
        Assert.Contains(logger.Lines, l => l.EventId == 1405 && l.Text.Contains(Path.GetFileName(unreadable), StringComparison.Ordinal) && l.Text.Contains("EACCES", StringComparison.Ordinal));
        Assert.Empty(index.Snapshot("suempresa"));
    }

    private static (int, Mono.Unix.Native.Errno) SystemOpen(string path, Mono.Unix.Native.OpenFlags flags)
    {
        int fd = Mono.Unix.Native.Syscall.open(path, flags);
        return (fd, fd < 0 ? Mono.Unix.Native.Stdlib.GetLastError() : 0);
    }

    private WaitingMessage Waiting(string path) =>
        new("suempresa", "info@suempresa.test", Path.Combine(_settings.MaildirRoot, "suempresa.test", "info"), Path.GetFileName(path), path, 300, DateTimeOffset.UnixEpoch);
}
