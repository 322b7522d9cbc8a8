using Respaldo.Configuration;
using Respaldo.Mailboxes;

namespace Respaldo.Tests.Mailboxes;

/// <summary>A tenant removed from the configuration leaves its stored copies: they are counted, never lost from view.</summary>
public sealed class OrphanedMailTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("respaldo-orphans-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Body = "Return-Path: <a@b.test>\r\n\r\nhello\r\n";

    private string Put(params string[] parts)
    {
        string path = Path.Combine([_dir, .. parts]);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, Body);
        return path;
    }

    [Fact]
    public void ARemovedTenantsWaitingAndHeldMailIsReportedAndTheConfiguredTenantsIsNot()
    {
        RespaldoSettings settings = ConfigurationLoader.Parse(
            System.Text.Encoding.UTF8.GetBytes(Respaldo.Tests.Configuration.SampleConfiguration.Create().ToJsonString()), "/x.json").Settings!;
        Put("maildirs", "suempresa.test", "info", "new", "1.M1.host,S=40");
        Put("maildirs", "removed.test", "ana", "new", "2.M2.host,S=40");
        Put("maildirs", "removed.test", "ana", "cur", "3.M3.host,S=40:2,S");
        Put("maildirs", "removed.test", "ana", "tmp", "4.M4.host");
        Put("maildirs", "empty.test", "luis", "new", ".hidden");
        Put("held", "removedtenant", "ana@removed.test", "5.M5.host,S=40");
        Put("held", settings.Tenants[0].Id, "info@suempresa.test", "6.M6.host,S=40");

        IReadOnlyList<OrphanedMail> found = OrphanedMailFinder.Find(Path.Combine(_dir, "maildirs"), Path.Combine(_dir, "held"),
            new TenantDirectory(settings.Tenants), settings.Tenants.Select(t => t.Id));

        Assert.Equal(
            [new OrphanedMail("maildirs", "removed.test", 2, 2 * Body.Length), new OrphanedMail("held", "removedtenant", 1, Body.Length)],
            found);
    }

    [Fact]
    public void NoStateDirectoryYetIsNoOrphan()
    {
        Assert.Empty(OrphanedMailFinder.Find(Path.Combine(_dir, "none"), Path.Combine(_dir, "none2"), new TenantDirectory([]), []));
    }
}
