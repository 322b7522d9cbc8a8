using Respaldo.Configuration;
using Respaldo.Mailboxes;

namespace Respaldo.Tests.Mailboxes;

/// <summary>MaildirLayout.KeyOf: the path read in place (the watcher's every deletion) says what the general reading says.</summary>
public sealed class MaildirLayoutTests
{
    private const string Root = "/var/lib/respaldo/maildirs";

    private static Tenant TenantFor(string id, params DomainPattern[] domains) => new()
    {
        Id = id,
        Name = id,
        Domains = domains,
        Primary = new PrimaryServer([new HostPort("p.test", 25)], TlsPolicy.None, null, "", 1, 0),
        Mailboxes = [],
        AlertEmails = [],
        DashboardUsers = [],
    };

    private static readonly MaildirLayout Layout = new(Root, new TenantDirectory([
        TenantFor("a", new DomainPattern("a.test", false)),
        TenantFor("b", new DomainPattern("b.test", true)),
    ]));

    /// <summary>What KeyOf said before it read paths in place: the relative path split into its four parts.</summary>
    private static (string TenantId, string Key)? General(string path)
    {
        string[] parts = Path.GetRelativePath(Root, path).Split('/');
        if (parts.Length != 4 || parts[2] is not ("new" or "cur") || parts[3].StartsWith('.'))
        {
            return null;
        }
        Tenant? tenant = new TenantDirectory([
            TenantFor("a", new DomainPattern("a.test", false)),
            TenantFor("b", new DomainPattern("b.test", true)),
        ]).ForDomain(parts[0]);
        return tenant is null ? null : (tenant.Id, $"{parts[1]}@{parts[0]}/{MaildirName.BaseName(parts[3])}");
    }

    [Theory]
    [InlineData(Root + "/a.test/info/new/100.M1P1.host,S=10,W=11")]
    [InlineData(Root + "/a.test/info/cur/100.M1P1.host,S=10,W=11:2,S")]
    [InlineData(Root + "/a.test/info/cur/100.M1P1.host,S=10,W=11:2,")]
    [InlineData(Root + "/A.TEST/Info/new/100.M1P1.host")]
    [InlineData(Root + "/x.b.test/ventas/new/100.M1P1.host")]
    [InlineData(Root + "/b.test/ventas/new/100.M1P1.host")]
    [InlineData(Root + "/c.test/info/new/100.M1P1.host")]
    [InlineData(Root + "/a.test/info/tmp/100.M1P1.host")]
    [InlineData(Root + "/a.test/info/new/.hidden")]
    [InlineData(Root + "/a.test/info/new")]
    [InlineData(Root + "/a.test/info/maildirsize")]
    [InlineData(Root + "/a.test/info/new/sub/100.M1P1.host")]
    [InlineData(Root + "/a.test//info/new/100.M1P1.host")]
    [InlineData(Root + "/a.test/info//new/100.M1P1.host")]
    [InlineData(Root + "/a.test/info/./new/100.M1P1.host")]
    [InlineData(Root + "/a.test/./new/100.M1P1.host")]
    [InlineData(Root + "/a.test/../a.test/info/new/100.M1P1.host")]
    [InlineData(Root + "x/a.test/info/new/100.M1P1.host")]
    [InlineData("/elsewhere/a.test/info/new/100.M1P1.host")]
    [InlineData(Root)]
    [InlineData(Root + "/")]
    public void ReadsAPathInPlaceAsTheGeneralReadingDoes(string path) => Assert.Equal(General(path), Layout.KeyOf(path));

    [Fact]
    public void ADeletionsPathCostsTheKeyAndLittleElse()
    {
        const string path = Root + "/a.test/info/new/1796658505.M123456P100000.mail-backup.suempresa.test,S=1563,W=1600";
        (string, string)? key = Layout.KeyOf(path);
        Assert.Equal(("a", "info@a.test/1796658505.M123456P100000.mail-backup.suempresa.test,S=1563,W=1600"), key);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            _ = Layout.KeyOf(path);
        }
        long each = (GC.GetAllocatedBytesForCurrentThread() - before) / 100;
        // The key string (about 180 bytes for these 74 characters) and nothing else of size: the
        // general reading made the relative path, five strings, an array and the key (about 700 bytes, counted, not measured).
        Assert.InRange(each, 1, 256);
    }
}
