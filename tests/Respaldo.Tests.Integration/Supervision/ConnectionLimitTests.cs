using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Supervision;

/// <summary>
/// controller.maxConnections, as an operator sets it: the lab's daemon reloaded with one
/// hand-over connection for the whole node hands a tenant's backlog over to the lab's primary
/// Postfix on that one (the tenant asks for four: the other three wait, and the log says so),
/// every message once; /metrics shows the limit, and a reload back to the default sets it again.
/// (That the cap is never passed is shown against a scripted primary that counts its sessions:
/// ConnectionSlotsTests, unit tier.)
/// </summary>
[Collection(LabCollection.Name)]
public sealed class ConnectionLimitTests(LabFixture lab)
{
    private const int Messages = 40;

    private const string Waited = "tenant suempresa: waiting for a hand-over connection: 1 of the node";

    [Fact]
    public async Task WithOneConnectionForTheNodeATenantOfFourHandsEverythingOverOnceOnOne()
    {
        string path = (await lab.RunLabAsync("config")).Output.Trim();
        string original = await File.ReadAllTextAsync(path);
        JsonObject config = JsonNode.Parse(original)!.AsObject();
        if (config["controller"] is not JsonObject controller)
        {
            controller = new JsonObject();
            config["controller"] = controller;
        }
        controller["maxConnections"] = 1;
        string one = config.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        string run = "slots" + Guid.NewGuid().ToString("N")[..8];
        string log = Path.Combine(lab["LOGS"], "controller.log");
        try
        {
            await lab.RunLabAsync("primary-down");
            await ControllerReload.ReloadAsync(lab, path, one);
            Assert.Equal(1, await MetricAsync("respaldo_handover_connections_limit"));
            int waitedBefore = Lines(log, Waited);
            await using (SmtpTestClient client = await SmtpTestClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port))
            {
                await client.CommandAsync("EHLO slots.example.org");
                for (int i = 0; i < Messages; i++)
                {
                    byte[] body = Encoding.ASCII.GetBytes($"From: slots@example.org\nTo: info@suempresa.test\nSubject: slots {i}\nMessage-ID: <{run}.{i}@example.org>\n\nmessage {i}\n");
                    SmtpReply reply = await client.SendAsync("slots@example.org", ["info@suempresa.test"], body);
                    Assert.True(reply.Code == 250, reply.Text);
                }
            }
            await Eventually.WaitAsync(() => Task.FromResult(StoredMail.MessageIds(lab["BACKUP_MAILDIRS"], run).Count), n => n == Messages, TimeSpan.FromMinutes(1), "every message stored at the backup");

            await lab.RunLabAsync("primary-up");
            await Eventually.WaitAsync(() => Task.FromResult(StoredMail.MessageIds(lab["BACKUP_MAILDIRS"], run).Count), n => n == 0, TimeSpan.FromMinutes(2), "the backup to empty");
            List<string> delivered = await Eventually.WaitAsync(() => Task.FromResult(StoredMail.MessageIds(lab["PRIMARY_MAILDIRS"], run)), d => d.Count >= Messages,
                TimeSpan.FromMinutes(1), "every message at the primary");
            Assert.Equal(Messages, delivered.Count);
            Assert.Equal(Messages, delivered.Distinct(StringComparer.Ordinal).Count());
            // The tenant's other three workers waited for the one connection, and the log says so (once a run).
            Assert.True(Lines(log, Waited) > waitedBefore, $"no line '{Waited}' in the controller's log");

            await ControllerReload.ReloadAsync(lab, path, original);
            Assert.Equal(100, await MetricAsync("respaldo_handover_connections_limit"));
        }
        finally
        {
            await lab.RunLabAsync("primary-up");
            await ControllerReload.ReloadAsync(lab, path, original);
        }
    }

    private async Task<double> MetricAsync(string series) => LabMetrics.Value(await LabMetrics.ScrapeAsync(lab), series);

    private static int Lines(string log, string text) => LabLog.CountLines(log, text);
}
