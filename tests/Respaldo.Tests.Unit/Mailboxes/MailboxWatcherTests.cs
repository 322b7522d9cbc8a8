using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Respaldo.Configuration;
using Respaldo.Mailboxes;

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
        using var watcher = new MailboxWatcher(layout, index, _ => false, TimeSpan.FromHours(1), NullLogger.Instance);
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
    public async Task SeesTheFirstMessagesOfNewMailboxesWithoutARescan()
    {
        var index = new MailboxIndex(["t"]);
        var layout = new MaildirLayout(_root, new TenantDirectory([TenantFor("a.test")]));
        using var watcher = new MailboxWatcher(layout, index, _ => false, TimeSpan.FromHours(1), NullLogger.Instance);
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
}
