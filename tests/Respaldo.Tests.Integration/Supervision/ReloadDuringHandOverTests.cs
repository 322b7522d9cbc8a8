using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Respaldo.Tests.Lab;
using Xunit.Abstractions;

namespace Respaldo.Tests.Supervision;

/// <summary>
/// Issue 13: a reload built a new supervisor (a full rescan, every retry time and primary state
/// lost, the message in flight cut). The lab's daemon hands 500 messages over to the lab's
/// primary Postfix while it gets three real SIGHUPs: every message arrives once, and its log
/// says each reload kept the index, with no full scan but the periodic one.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class ReloadDuringHandOverTests(LabFixture lab, ITestOutputHelper output)
{
    private const int Messages = 500;

    [Fact]
    public async Task ThreeSighupsDuringAHandOverOf500MessagesGiveNoDuplicateAndNoRescan()
    {
        string path = (await lab.RunLabAsync("config")).Output.Trim();
        string original = await File.ReadAllTextAsync(path);
        JsonObject config = JsonNode.Parse(original)!.AsObject();
        JsonObject tenant = config["tenants"]!.AsArray().Select(t => t!.AsObject()).Single(t => (string?)t["id"] == "suempresa");
        // Note: 40 a second, so that the hand-over lasts long enough for three reloads in it.
        tenant["primary"]!["maxMessagesPerSecond"] = 40;
        string slow = config.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        string run = "sighup" + Guid.NewGuid().ToString("N")[..8];
        string log = Path.Combine(lab["LOGS"], "controller.log");
        try
        {
            await lab.RunLabAsync("primary-down");
            await ControllerReload.ReloadAsync(lab, path, slow);
            await using (SmtpTestClient client = await SmtpTestClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port))
            {
                await client.CommandAsync("EHLO load.example.org");
                for (int i = 0; i < Messages; i++)
                {
                    byte[] body = Encoding.ASCII.GetBytes($"From: load@example.org\nTo: info@suempresa.test\nSubject: sighup {i}\nMessage-ID: <{run}.{i}@example.org>\n\nmessage {i}\n");
                    SmtpReply reply = await client.SendAsync("load@example.org", ["info@suempresa.test"], body);
                    Assert.True(reply.Code == 250, reply.Text);
                }
            }
            await Eventually.WaitAsync(() => Task.FromResult(Ids(lab["BACKUP_MAILDIRS"], run).Count), n => n == Messages, TimeSpan.FromMinutes(3), "500 messages stored at the backup");
            // Note: the periodic safety-net scan (rescanIntervalSeconds) may fall in the window; a
            // reload's would be "(at start)" (a new supervisor) or "(requested)".
            int scans = Lines(log, "full scan #") - Lines(log, "(periodic)");
            int kept = Lines(log, "reload kept the mailbox index");

            await lab.RunLabAsync("primary-up");
            foreach (int point in new[] { 400, 250, 100 })
            {
                await Eventually.WaitAsync(() => Task.FromResult(Ids(lab["BACKUP_MAILDIRS"], run).Count), n => n <= point, TimeSpan.FromMinutes(2), $"the hand-over down to {point} waiting");
                await ControllerReload.ReloadAsync(lab, path, slow);
                int left = Ids(lab["BACKUP_MAILDIRS"], run).Count;
                output.WriteLine($"SIGHUP at {point} waiting; {left} still waiting once it was applied");
                Assert.True(left > 0, "the hand-over ended before the reload was applied");
            }
            await Eventually.WaitAsync(() => Task.FromResult(Ids(lab["BACKUP_MAILDIRS"], run).Count), n => n == 0, TimeSpan.FromMinutes(2), "the backup to empty");
            List<string> delivered = await Eventually.WaitAsync(() => Task.FromResult(Ids(lab["PRIMARY_MAILDIRS"], run)), d => d.Count >= Messages,
                TimeSpan.FromMinutes(1), "every message at the primary");
            Assert.Equal(Messages, delivered.Distinct(StringComparer.Ordinal).Count());
            Assert.Equal(Messages, delivered.Count);
            Assert.Equal(scans, Lines(log, "full scan #") - Lines(log, "(periodic)"));
            Assert.Equal(kept + 3, Lines(log, "reload kept the mailbox index"));
        }
        finally
        {
            await lab.RunLabAsync("primary-up");
            await ControllerReload.ReloadAsync(lab, path, original);
        }
    }

    private static int Lines(string log, string text) => LabLog.CountLines(log, text);

    private static List<string> Ids(string root, string run) => StoredMail.MessageIds(root, run);
}
