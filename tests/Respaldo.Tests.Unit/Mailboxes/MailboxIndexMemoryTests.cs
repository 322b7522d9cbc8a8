using Respaldo.Configuration;
using Respaldo.Mailboxes;
using Xunit.Abstractions;

namespace Respaldo.Tests.Mailboxes;

/// <summary>Alone in its collection: the heap is measured whole, so no other test may allocate meanwhile.</summary>
[CollectionDefinition(nameof(MailboxIndexMemoryTests), DisableParallelization = true)]
public sealed class MailboxIndexMemoryCollection;

[Collection(nameof(MailboxIndexMemoryTests))]
public sealed class MailboxIndexMemoryTests(ITestOutputHelper output)
{
    private static Tenant TenantFor(string domain) => new()
    {
        Id = "t",
        Name = "t",
        Domains = [new DomainPattern(domain, false)],
        Primary = new PrimaryServer([new HostPort("p.test", 25)], TlsPolicy.None, null, "", 1, 0),
        Mailboxes = [],
        AlertEmails = [],
        DashboardUsers = [],
    };

    [Fact]
    public void AWaitingMessageCostsAtMost200BytesOfHeapInTheIndex()
    {
        // Note: what the index keeps, entries made as the scanner makes them (MaildirLayout.Describe
        // from a Dovecot file name), 100 messages in each of 1,000 mailboxes; retained heap, not
        // allocations (the garbage of parsing a name is not kept).
        const int count = 100_000;
        var layout = new MaildirLayout("/var/lib/respaldo/maildirs", new TenantDirectory([TenantFor("empresa.test")]));
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var index = new MailboxIndex(["t"]);
        for (int i = 0; i < count; i++)
        {
            string local = $"buzon{i % 1000}";
            string name = $"{1_733_500_000 + i}.M{i % 1_000_000}P{i % 40_000}.backup.example.net,S={1000 + (i % 5000)},W={1030 + (i % 5000)}";
            string sub = i % 3 == 0 ? "cur" : "new";
            string file = sub == "cur" ? name + ":2,S" : name;
            WaitingMessage m = layout.Describe("empresa.test", local, $"{layout.Root}/empresa.test/{local}/{sub}/{file}")!;
            index.Upsert(m);
        }
        long after = GC.GetTotalMemory(forceFullCollection: true);
        long perEntry = (after - before) / count;
        Assert.Equal(count, index.Totals("t").Count);
        GC.KeepAlive(index);
        output.WriteLine($"{perEntry} bytes of heap per waiting message");
        Assert.True(perEntry <= 200, $"{perEntry} bytes per waiting message");
    }
}
