using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Respaldo.Configuration;
using Respaldo.Mailboxes;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Mailboxes;

/// <summary>The watcher on a real directory tree with real inotify, the periodic rescan pushed out of reach.</summary>
public sealed class MailboxWatcherTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("respaldo-watch-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static Tenant TenantFor(string domain) => new()
    {
        Id = "t",
        Name = "t",
        Domains = [new DomainPattern(domain, false), new DomainPattern(domain, true)],
        Primary = new PrimaryServer([new HostPort("p.test", 25)], TlsPolicy.None, null, "", 1, 0),
        Mailboxes = [],
        AlertEmails = [],
        DashboardUsers = [],
    };

    private static void Deliver(string maildir, string name)
    {
        // As Dovecot does: the directories, a file in tmp/, renamed into new/.
        foreach (string sub in new[] { "tmp", "new", "cur" })
        {
            Directory.CreateDirectory(Path.Combine(maildir, sub));
        }
        string tmp = Path.Combine(maildir, "tmp", name);
        File.WriteAllBytes(tmp, Encoding.ASCII.GetBytes("Return-Path: <a@b.test>\n\nx\n"));
        File.Move(tmp, Path.Combine(maildir, "new", name));
    }

    private static async Task<bool> EventuallyAsync(Func<bool> condition)
    {
        for (int i = 0; i < 100; i++)
        {
            if (condition())
            {
                return true;
            }
            await Task.Delay(50);
        }
        return condition();
    }

    [Fact]
    public async Task SeesArrivalsRenamesAndDeletionsWithoutRescanning()
    {
        var index = new MailboxIndex(["t"]);
        var layout = new MaildirLayout(_root, new TenantDirectory([TenantFor("a.test")]));
        string maildir = Path.Combine(_root, "a.test", "info");
        Deliver(maildir, "100.M1P1.host,S=10,W=11");
        using var watcher = new MailboxWatcher(layout, index, found => new Reconciled(found), TimeSpan.FromHours(1), NullLogger.Instance);
        using var cts = new CancellationTokenSource();
        Task run = watcher.RunAsync(cts.Token);
        await watcher.Ready;
        Assert.Equal(1, index.Totals("t").Count);

        Deliver(maildir, "200.M2P1.host,S=20,W=21");
        Assert.True(await EventuallyAsync(() => index.Totals("t") == (2, 30)));

        File.Move(Path.Combine(maildir, "new", "200.M2P1.host,S=20,W=21"), Path.Combine(maildir, "cur", "200.M2P1.host,S=20,W=21:2,S"));
        Assert.True(await EventuallyAsync(() => index.Find("t", "info@a.test/200.M2P1.host,S=20,W=21")?.Path.Contains("/cur/", StringComparison.Ordinal) == true));
        Assert.Equal(2, index.Totals("t").Count);

        File.Delete(Path.Combine(maildir, "cur", "200.M2P1.host,S=20,W=21:2,S"));
        Assert.True(await EventuallyAsync(() => index.Totals("t").Count == 1));
        await cts.CancelAsync();
        await run;
    }

    [Fact]
    public async Task FollowsAMessageThroughEveryFlagRenameAsOneMessage()
    {
        // What the webmail causes: Dovecot moves new/X to cur/X:2, when INBOX is selected, then
        // renames it for each flag change (\Seen, then \Flagged from another client).
        var index = new MailboxIndex(["t"]);
        var layout = new MaildirLayout(_root, new TenantDirectory([TenantFor("a.test")]));
        string maildir = Path.Combine(_root, "a.test", "info");
        const string name = "300.M3P1.host,S=27,W=28";
        Deliver(maildir, name);
        using var watcher = new MailboxWatcher(layout, index, found => new Reconciled(found), TimeSpan.FromHours(1), NullLogger.Instance);
        using var cts = new CancellationTokenSource();
        Task run = watcher.RunAsync(cts.Token);
        await watcher.Ready;
        string key = "info@a.test/" + name;
        string previous = Path.Combine(maildir, "new", name);
        foreach (string next in new[] { "cur/" + name + ":2,", "cur/" + name + ":2,S", "cur/" + name + ":2,FS" })
        {
            string path = Path.Combine(maildir, next);
            File.Move(previous, path);
            Assert.True(await EventuallyAsync(() => index.Find("t", key)?.Path == path), next);
            Assert.Equal(1, index.Totals("t").Count);
            Assert.Equal(path, MaildirLayout.Relocate(maildir, name));
            previous = path;
        }
        await cts.CancelAsync();
        await run;
    }

    [Fact]
    public async Task SeesTheFirstMessagesOfNewMailboxesWithoutARescan()
    {
        var index = new MailboxIndex(["t"]);
        var layout = new MaildirLayout(_root, new TenantDirectory([TenantFor("a.test")]));
        using var watcher = new MailboxWatcher(layout, index, found => new Reconciled(found), TimeSpan.FromHours(1), NullLogger.Instance);
        using var cts = new CancellationTokenSource();
        Task run = watcher.RunAsync(cts.Token);
        await watcher.Ready;

        // Note: many new mailboxes at once, each created and filled within microseconds, as on a
        // first delivery: the file often lands before inotify watches the new directory.
        for (int i = 0; i < 50; i++)
        {
            Deliver(Path.Combine(_root, i % 2 == 0 ? "a.test" : "sub.a.test", $"user{i}"), $"{300 + i}.M{i}P1.host,S=5,W=6");
        }
        Assert.True(await EventuallyAsync(() => index.Totals("t").Count == 50), $"{index.Totals("t").Count} of 50 seen");
        await cts.CancelAsync();
        await run;
    }

    /// <summary>Issue 16: only regular files in new/ and cur/ are messages; each other thing is reported once, at scans and on arrival.</summary>
    [Fact]
    public async Task LeavesFifosDirectoriesAndSymlinksOutOfTheIndexAndReportsEachOnce()
    {
        var index = new MailboxIndex(["t"]);
        var layout = new MaildirLayout(_root, new TenantDirectory([TenantFor("a.test")]));
        string maildir = Path.Combine(_root, "a.test", "info");
        Deliver(maildir, "100.M1P1.host,S=10,W=11");
        string outside = Path.Combine(_root, "outside");
        File.WriteAllText(outside, "Return-Path: <a@b.test>\n\nsecret\n");
        Assert.Equal(0, Mono.Unix.Native.Syscall.mkfifo(Path.Combine(maildir, "new", "101.M1P1.host,S=10,W=11"), Mono.Unix.Native.FilePermissions.S_IRUSR));
        Directory.CreateDirectory(Path.Combine(maildir, "new", "102.M1P1.host,S=10,W=11"));
        File.CreateSymbolicLink(Path.Combine(maildir, "cur", "103.M1P1.host,S=10,W=11:2,S"), outside);
        var logger = new ListLogger();
        using var watcher = new MailboxWatcher(layout, index, found => new Reconciled(found), TimeSpan.FromHours(1), logger);
        using var cts = new CancellationTokenSource();
        Task run = watcher.RunAsync(cts.Token);
        await watcher.Ready;
        watcher.FullScan();

        Assert.Equal(["100.M1P1.host,S=10,W=11"], index.Snapshot("t").Select(m => m.BaseName));
        Assert.Equal(3, logger.Lines.Count(l => l.EventId == 1103));

        // One that appears while the watcher runs is not indexed either, and reported at once.
        Assert.Equal(0, Mono.Unix.Native.Syscall.mkfifo(Path.Combine(maildir, "new", "104.M1P1.host,S=10,W=11"), Mono.Unix.Native.FilePermissions.S_IRUSR));
        Assert.True(await EventuallyAsync(() => logger.Lines.Count(l => l.EventId == 1103) == 4));
        Deliver(maildir, "105.M1P1.host,S=10,W=11");
        Assert.True(await EventuallyAsync(() => index.Snapshot("t").Count == 2));
        watcher.FullScan();
        Assert.Equal(["100.M1P1.host,S=10,W=11", "105.M1P1.host,S=10,W=11"], index.Snapshot("t").Select(m => m.BaseName).Order(StringComparer.Ordinal));
        Assert.Equal(4, logger.Lines.Count(l => l.EventId == 1103));
        await cts.CancelAsync();
        await run;
    }

    [Fact]
    public async Task AStartWithThousandsOfUnknownFilesAsksReconciliationOncePerBatchAndLeavesOutWhatWasDelivered()
    {
        // Note: counts the questions, not the time: one per file was a journal query per file.
        var index = new MailboxIndex(["t"]);
        var layout = new MaildirLayout(_root, new TenantDirectory([TenantFor("a.test")]));
        for (int box = 0; box < 30; box++)
        {
            string maildir = Path.Combine(_root, "a.test", $"u{box}");
            foreach (string sub in new[] { "tmp", "new", "cur" })
            {
                Directory.CreateDirectory(Path.Combine(maildir, sub));
            }
            for (int i = 0; i < 100; i++)
            {
                File.WriteAllText(Path.Combine(maildir, "new", $"{1000 + (box * 100) + i}.M1P1.host,S=5,W=6"), "x");
            }
        }
        var batches = new List<int>();
        Reconciled Reconcile(IReadOnlyList<WaitingMessage> unknown)
        {
            batches.Add(unknown.Count);
            return new Reconciled(unknown.Where(m => !m.BaseName.StartsWith("1000.", StringComparison.Ordinal)).ToList());
        }
        using var watcher = new MailboxWatcher(layout, index, Reconcile, TimeSpan.FromHours(1), NullLogger.Instance);
        using var cts = new CancellationTokenSource();
        Task run = watcher.RunAsync(cts.Token);
        await watcher.Ready;

        Assert.Equal([3000], batches);
        Assert.Equal(2999, index.Totals("t").Count);
        Assert.Null(index.Find("t", "u0@a.test/1000.M1P1.host,S=5,W=6"));
        watcher.FullScan();
        // Known files are not asked about again; the one left out is (its deletion may have failed).
        Assert.Equal([3000, 1], batches);
        await cts.CancelAsync();
        await run;
    }
    [Fact]
    public async Task FilesTheJournalAlreadyRecordedAsArrivedGoInWithoutBeingAnnouncedAgain()
    {
        // A restart: 1000 and 1001 arrived before it (the journal has their rows), 1002 came
        // while the daemon was down. All three wait; only 1002 is announced (a journal row and
        // a "mail arrived" alert each), at start and never again at a rescan.
        var index = new MailboxIndex(["t"]);
        var layout = new MaildirLayout(_root, new TenantDirectory([TenantFor("a.test")]));
        string maildir = Path.Combine(_root, "a.test", "info");
        foreach (string name in new[] { "1000.M1P1.host,S=10,W=11", "1001.M1P1.host,S=10,W=11", "1002.M1P1.host,S=10,W=11" })
        {
            Deliver(maildir, name);
        }
        var announced = new List<string>();
        index.Arrived += m =>
        {
            lock (announced)
            {
                announced.Add(m.BaseName);
            }
        };
        Task nextArrival = index.NextArrival("t");
        static Reconciled Reconcile(IReadOnlyList<WaitingMessage> unknown) =>
            new(unknown, unknown.Where(m => !m.BaseName.StartsWith("1002.", StringComparison.Ordinal)).Select(m => m.Key).ToHashSet(StringComparer.Ordinal));
        using var watcher = new MailboxWatcher(layout, index, Reconcile, TimeSpan.FromHours(1), NullLogger.Instance);
        using var cts = new CancellationTokenSource();
        Task run = watcher.RunAsync(cts.Token);
        await watcher.Ready;

        Assert.Equal(3, index.Totals("t").Count);
        Assert.True(nextArrival.IsCompleted, "the tenant's loop is woken for what waits, announced or not");
        watcher.FullScan();
        lock (announced)
        {
            Assert.Equal(["1002.M1P1.host,S=10,W=11"], announced);
        }
        await cts.CancelAsync();
        await run;
    }

    [Fact]
    public async Task ADomainAReloadGaveToAnotherTenantLeavesTheFirstTenantsQueue()
    {
        // Note: both tenants stay configured; left in the first one's queue, each copy would be
        // handed over twice, once by each tenant's loop (and to the old primary).
        var index = new MailboxIndex(["t", "u"]);
        Tenant t = TenantFor("a.test");
        Tenant u = TenantFor("b.test") with { Id = "u" };
        var layout = new MaildirLayout(_root, new TenantDirectory([t, u]));
        Deliver(Path.Combine(_root, "a.test", "info"), "100.M1P1.host,S=10,W=11");
        Deliver(Path.Combine(_root, "b.test", "info"), "200.M2P1.host,S=20,W=21");
        using var watcher = new MailboxWatcher(layout, index, found => new Reconciled(found), TimeSpan.FromHours(1), NullLogger.Instance);
        using var cts = new CancellationTokenSource();
        Task run = watcher.RunAsync(cts.Token);
        await watcher.Ready;
        Assert.Equal((1, 10L), index.Totals("t"));

        watcher.Use(new MaildirLayout(_root, new TenantDirectory([t with { Domains = [new DomainPattern("c.test", false)] },
            u with { Domains = [new DomainPattern("b.test", false), new DomainPattern("a.test", false)] }])), TimeSpan.FromHours(1));
        watcher.FullScan();
        Assert.Equal((0, 0L), index.Totals("t"));
        Assert.Equal((2, 30L), index.Totals("u"));
        Assert.Equal(30L, index.AllBytes);
        await cts.CancelAsync();
        await run;
    }
    [Fact]
    public async Task AMaildirTreeLargerThanTheInotifyCeilingIsAnErrorSaidOnceAndItsMailIsStillFoundByRescans()
    {
        var index = new MailboxIndex(["t"]);
        var layout = new MaildirLayout(_root, new TenantDirectory([TenantFor("a.test")]));
        foreach (string box in new[] { "info", "ventas", "juan" })
        {
            Deliver(Path.Combine(_root, "a.test", box), $"100.M1P1.{box},S=10,W=11");
        }
        long? ceiling = 5;
        var logger = new ListLogger();
        using var watcher = new MailboxWatcher(layout, index, found => new Reconciled(found), TimeSpan.FromHours(1), logger, maxWatches: () => ceiling);
        using var cts = new CancellationTokenSource();
        Task run = watcher.RunAsync(cts.Token);
        await watcher.Ready;
        watcher.FullScan();

        // 1 root + 1 domain + 3 mailboxes x 4 = 14 watches needed, 5 allowed: one error, not one per scan.
        Assert.Equal(3, index.Totals("t").Count);
        Assert.True(watcher.OverWatchLimit);
        string said = Assert.Single(logger.Lines, l => l.EventId == 1105).Text;
        Assert.Contains("need about 14 inotify watches but fs.inotify.max_user_watches is 5", said, StringComparison.Ordinal);
        Assert.Contains("sysctl -w fs.inotify.max_user_watches=65536", said, StringComparison.Ordinal);

        // Raised: the next scan finds the tree within it, and a later shortfall is said again.
        ceiling = 1000;
        watcher.FullScan();
        Assert.False(watcher.OverWatchLimit);
        ceiling = 5;
        watcher.FullScan();
        Assert.Equal(2, logger.Lines.Count(l => l.EventId == 1105));
        await cts.CancelAsync();
        await run;
    }
}
