using System.Diagnostics;
using System.Text;
using Microsoft.Data.Sqlite;
using Respaldo.Tests.Lab;
using Xunit.Abstractions;

namespace Respaldo.Tests.HandOver;

/// <summary>Step 1: an arrival is seen at once (inotify), and with nothing waiting the primary is left alone.</summary>
[Collection(LabCollection.Name)]
public sealed class WatchTests(LabFixture lab, ITestOutputHelper output)
{
    [Fact]
    public async Task HandsAnArrivalOverWithinSecondsWhenThePrimaryIsUp()
    {
        await lab.RunLabAsync("primary-up");
        string run = "watch" + Guid.NewGuid().ToString("N")[..8];
        var clock = Stopwatch.StartNew();
        await using (SmtpTestClient client = await SmtpTestClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port))
        {
            await client.CommandAsync("EHLO client.example.org");
            Assert.Equal(250, (await client.SendAsync("a@example.org", ["info@suempresa.test"],
                Encoding.ASCII.GetBytes($"Subject: {run}\nMessage-ID: <{run}@example.org>\n\nx\n"))).Code);
        }
        while (!lab.PrimaryMessages("info@suempresa.test").Any(f => File.ReadAllText(f).Contains(run, StringComparison.Ordinal)))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "not handed over within 30 s");
            await Task.Delay(50);
        }
        output.WriteLine($"at the primary {clock.ElapsedMilliseconds} ms after the backup accepted it");
    }

    [Fact]
    public async Task DoesNotProbeThePrimaryWhileNothingWaits()
    {
        await lab.RunLabAsync("primary-up");
        for (int i = 0; i < 300 && StoredMail.AllFiles(lab["BACKUP_MAILDIRS"]).Count > 0; i++)
        {
            await Task.Delay(100);
        }
        Assert.Empty(StoredMail.AllFiles(lab["BACKUP_MAILDIRS"]));
        await Task.Delay(TimeSpan.FromSeconds(1));
        long before = ProbeCount();
        await Task.Delay(TimeSpan.FromSeconds(8));
        Assert.Equal(before, ProbeCount());
    }

    private long ProbeCount()
    {
        using var db = new SqliteConnection($"Data Source={lab["JOURNAL"]};Mode=ReadOnly");
        db.Open();
        using SqliteCommand q = db.CreateCommand();
        // Note: the lab's second tenant ("otra") accepts only while its primary is down, so it
        // probes once a minute while idle (idleProbeIntervalSeconds); this test is about suempresa.
        q.CommandText = "SELECT count(*) FROM probes WHERE tenant = 'suempresa'";
        return (long)q.ExecuteScalar()!;
    }
}
