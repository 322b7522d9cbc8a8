using Respaldo.Mailboxes;

namespace Respaldo.Tests.Mailboxes;

public sealed class MailboxIndexTests
{
    private static WaitingMessage M(string name, long size, int second, string mailbox = "info@a.test") =>
        new("a", mailbox, "/m/a.test/info", name, $"/m/a.test/info/new/{name}", size, DateTimeOffset.FromUnixTimeSeconds(second));

    [Fact]
    public void CountsWhatWaitsAndListsOldestFirst()
    {
        var index = new MailboxIndex(["a"]);
        index.Upsert(M("late", 10, 300));
        index.Upsert(M("early", 5, 100));
        index.Upsert(M("other", 1, 200, "ventas@a.test"));
        Assert.Equal((3, 16L), index.Totals("a"));
        Assert.Equal(["early", "other", "late"], index.Snapshot("a").Select(m => m.BaseName));
        Assert.Equal((2, 15L), index.MailboxTotals("a")["info@a.test"]);
    }

    [Fact]
    public void ARenameKeepsOneEntryAndItsArrivalTime()
    {
        var index = new MailboxIndex(["a"]);
        WaitingMessage m = M("x", 10, 100);
        index.Upsert(m);
        index.Upsert(m with { Path = "/m/a.test/info/cur/x:2,S", Arrived = DateTimeOffset.UnixEpoch });
        WaitingMessage only = Assert.Single(index.Snapshot("a"));
        Assert.Equal("/m/a.test/info/cur/x:2,S", only.Path);
        Assert.Equal(m.Arrived, only.Arrived);
        Assert.False(index.Remove("a", m.Key, onlyAtPath: m.Path));
        Assert.True(index.Remove("a", m.Key));
        Assert.Equal((0, 0L), index.Totals("a"));
    }

    [Fact]
    public async Task SignalsTheNextArrivalOnlyOnce()
    {
        var index = new MailboxIndex(["a"]);
        int announced = 0;
        index.Arrived += _ => announced++;
        Task next = index.NextArrival("a");
        Assert.False(next.IsCompleted);
        index.Upsert(M("x", 1, 1));
        await next.WaitAsync(TimeSpan.FromSeconds(5));
        index.Upsert(M("x", 1, 1));
        Assert.Equal(1, announced);
    }

    [Fact]
    public void AScanAddsNewAndDropsVanished()
    {
        var index = new MailboxIndex(["a"]);
        index.Upsert(M("gone", 1, 1));
        index.Upsert(M("stays", 2, 2));
        index.ReplaceMailbox("a", "info@a.test", [M("stays", 2, 2), M("new", 3, 3)]);
        Assert.Equal(["stays", "new"], index.Snapshot("a").Select(m => m.BaseName));
        Assert.Equal((2, 5L), index.Totals("a"));
    }

    [Fact]
    public void AScanKeepsAMessageThatArrivedAfterItsListing()
    {
        // Note: a full scan lists a mailbox, then replaces its entries; a message that arrived in
        // between was added by inotify but is not in the listing. Dropping it left it unseen
        // until the next rescan, five minutes later (the benchmark found one such straggler).
        string dir = Directory.CreateTempSubdirectory("respaldo-index-").FullName;
        try
        {
            string path = Path.Combine(dir, "late");
            File.WriteAllText(path, "Return-Path: <a@b.test>\n\nbody\n");
            var index = new MailboxIndex(["a"]);
            WaitingMessage listed = M("listed", 1, 1) with { Path = Path.Combine(dir, "listed") };
            File.WriteAllText(listed.Path, "x");
            index.Upsert(listed);
            index.Upsert(M("late", 2, 2) with { Path = path });
            index.Upsert(M("gone", 4, 3));

            index.ReplaceMailbox("a", "info@a.test", [listed]);

            Assert.Equal(["listed", "late"], index.Snapshot("a").Select(m => m.BaseName));
            Assert.Equal((2, 3L), index.Totals("a"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
