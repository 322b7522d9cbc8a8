using System.Text;
using Microsoft.Data.Sqlite;
using Respaldo.Tests.Lab;
using Xunit.Abstractions;

namespace Respaldo.Tests.HandOver;

/// <summary>
/// A primary that answers 4xx for one recipient and 5xx for another (a real Postfix with a
/// recipient access table): the 4xx copy stays and arrives once the primary relents, the 5xx
/// copy goes to the hold area with the reason, the rest is delivered; nothing lost or doubled.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class RefusalTests(LabFixture lab, ITestOutputHelper output)
{
    [Fact]
    public async Task DefersFourHundredsHoldsFiveHundredsAndDeliversTheRest()
    {
        string run = "refusal" + Guid.NewGuid().ToString("N")[..8];
        string primary = lab["PRIMARY_POSTFIX"];
        string table = Path.Combine(primary, "refusals");
        await File.WriteAllTextAsync(table,
            "ventas@suempresa.test 450 4.2.1 Mailbox busy, try later\n" +
            "juan@norte.suempresa.test 550 5.1.1 No such user here any more\n");
        await PostconfAsync("-e", $"smtpd_recipient_restrictions = check_recipient_access texthash:{table}, reject_unauth_destination");
        try
        {
            await lab.RunLabAsync("primary-down");
            string[] recipients = ["info@suempresa.test", "ventas@suempresa.test", "juan@norte.suempresa.test"];
            await using (SmtpTestClient client = await SmtpTestClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port))
            {
                await client.CommandAsync("EHLO client.example.org");
                foreach (string to in recipients)
                {
                    byte[] body = Encoding.ASCII.GetBytes($"From: a@example.org\nTo: {to}\nSubject: refusal\nMessage-ID: <{run}.{to}>\n\nhello\n");
                    Assert.Equal(250, (await client.SendAsync("a@example.org", [to], body)).Code);
                }
            }
            await WaitUntilAsync(() => Count(lab["BACKUP_MAILDIRS"], run) == 3, "stored", TimeSpan.FromSeconds(60));

            await lab.RunLabAsync("primary-up");
            await WaitUntilAsync(() => Count(lab["PRIMARY_MAILDIRS"], run) == 1 && HeldFiles(run).Count == 1, "info delivered and juan held", TimeSpan.FromSeconds(60));
            Assert.Single(lab.PrimaryMessages("info@suempresa.test"), f => File.ReadAllText(f).Contains(run, StringComparison.Ordinal));
            Assert.Single(lab.BackupMessages("ventas@suempresa.test"), f => File.ReadAllText(f).Contains(run, StringComparison.Ordinal));
            string held = Assert.Single(HeldFiles(run));
            Assert.Contains("juan@norte.suempresa.test", held, StringComparison.Ordinal);

            using (var db = new SqliteConnection($"Data Source={lab["JOURNAL"]};Mode=ReadOnly"))
            {
                db.Open();
                using SqliteCommand q = db.CreateCommand();
                q.CommandText = "SELECT reason, code FROM holds WHERE path = $p";
                q.Parameters.AddWithValue("$p", held);
                using SqliteDataReader r = q.ExecuteReader();
                Assert.True(r.Read(), "no hold record");
                output.WriteLine($"held: {r.GetString(0)}");
                Assert.Matches("550 5.1.1 .*No such user here any more", r.GetString(0));
                Assert.Equal(550, r.GetInt32(1));
                using SqliteCommand d = db.CreateCommand();
                d.CommandText = "SELECT count(*) FROM handovers WHERE mailbox = 'ventas@suempresa.test' AND outcome = 'deferred' AND reply LIKE '450 4.2.1%'";
                Assert.True((long)d.ExecuteScalar()! >= 1, "the deferral is not in the journal");
            }

            // The primary relents: the deferred copy arrives at its next retry (15 s).
            await File.WriteAllTextAsync(table, "juan@norte.suempresa.test 550 5.1.1 No such user here any more\n");
            await ProcessRunner.RunAsync("postfix", ["-c", primary, "reload"]);
            await WaitUntilAsync(() => Count(lab["PRIMARY_MAILDIRS"], run) == 2, "ventas delivered after the retry", TimeSpan.FromSeconds(90));
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.Equal(2, Count(lab["PRIMARY_MAILDIRS"], run));
            Assert.Equal(0, Count(lab["BACKUP_MAILDIRS"], run));
            Assert.Single(HeldFiles(run));
        }
        finally
        {
            await PostconfAsync("-X", "smtpd_recipient_restrictions");
            await ProcessRunner.RunAsync("postfix", ["-c", primary, "reload"]);
        }
    }

    private async Task PostconfAsync(params string[] args)
    {
        ProcessRunner.Result r = await ProcessRunner.RunAsync("postconf", ["-c", lab["PRIMARY_POSTFIX"], .. args]);
        Assert.True(r.ExitCode == 0, r.ToString());
        await ProcessRunner.RunAsync("postfix", ["-c", lab["PRIMARY_POSTFIX"], "reload"]);
    }

    private List<string> HeldFiles(string run) =>
        !Directory.Exists(lab["HOLD_DIR"]) ? [] :
        Directory.EnumerateFiles(lab["HOLD_DIR"], "*", SearchOption.AllDirectories)
            .Where(f => File.ReadAllText(f).Contains(run, StringComparison.Ordinal)).ToList();

    private static int Count(string root, string run) =>
        StoredMail.AllFiles(root).Count(f =>
        {
            try
            {
                return File.ReadAllText(f).Contains(run, StringComparison.Ordinal);
            }
            catch (FileNotFoundException)
            {
                return false;
            }
        });

    private static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan timeout)
    {
        DateTime end = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > end)
            {
                throw new TimeoutException($"timed out waiting until {what}");
            }
            await Task.Delay(100);
        }
    }
}
