using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Dashboard;

/// <summary>/metrics, scraped like Prometheus does, says the same numbers as the JSON API and the dashboard's overview.</summary>
[Collection(LabCollection.Name)]
public sealed partial class MetricsTests(LabFixture lab)
{
    [GeneratedRegex("^(respaldo_[a-z_]+)(\\{[^}]*\\})? ([0-9.e+-]+)$", RegexOptions.Multiline)]
    private static partial Regex Sample();

    /// <summary>The series compared here; disk free and latencies move with every scrape on a busy machine.</summary>
    private static readonly string[] Compared = ["respaldo_messages_waiting", "respaldo_bytes_waiting", "respaldo_messages_held",
        "respaldo_handovers_total", "respaldo_probes_total", "respaldo_storage_used_bytes", "respaldo_primary_up"];

    private static Dictionary<string, double> Parse(string text) => Sample().Matches(text)
        .Where(m => Compared.Contains(m.Groups[1].Value))
        .ToDictionary(m => m.Groups[1].Value + m.Groups[2].Value, m => double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture));

    [GeneratedRegex("data-testid=\"(waiting|held|handed-over|received-today)\">\\s*<div class=\"label\">[^<]*</div>\\s*<div class=\"value\" data-value=\"(\\d+)\"")]
    private static partial Regex Tile();

    [Fact]
    public async Task MetricsMatchTheApiAndTheDashboard()
    {
        await lab.RunLabAsync("primary-down");
        string tenant = lab["DASHBOARD_TENANT"];
        await using (SmtpTestClient smtp = await SmtpTestClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port))
        {
            await smtp.CommandAsync("EHLO metrics.example.org");
            for (int i = 0; i < 3; i++)
            {
                SmtpReply r = await smtp.SendAsync("sender@example.org", ["ventas@suempresa.test"], TestMessages.Plain(TestMessages.Unique("metrics")));
                Assert.True(r.Code == 250, r.Text);
            }
        }
        using var client = new DashboardClient(lab["DASHBOARD_URL"]);
        Assert.Equal(HttpStatusCode.Redirect, await client.LoginAsync(lab["DASHBOARD_USER"], lab["DASHBOARD_PASSWORD"]));

        // Probes go on while mail waits, so take the three views until two scrapes around them agree.
        string? last = null;
        for (int attempt = 0; attempt < 20; attempt++)
        {
            Dictionary<string, double> before = Parse((await client.GetAsync("/metrics")).Body);
            JsonElement status = await client.JsonAsync($"/api/v1/tenants/{tenant}/status");
            string overview = (await client.GetAsync($"/t/{tenant}")).Body;
            (_, string attemptsPage, _) = await client.GetAsync($"/t/{tenant}/attempts");
            Dictionary<string, double> after = Parse((await client.GetAsync("/metrics")).Body);
            if (!before.SequenceEqual(after) || status.GetProperty("waiting").GetProperty("messages").GetInt32() < 3)
            {
                last = "metrics moved during the comparison";
                await Task.Delay(300);
                continue;
            }
            string l = $"{{tenant=\"{tenant}\"}}";
            Dictionary<string, int> tiles = Tile().Matches(overview).ToDictionary(m => m.Groups[1].Value, m => int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
            int waiting = status.GetProperty("waiting").GetProperty("messages").GetInt32();
            Assert.Equal(waiting, (int)after["respaldo_messages_waiting" + l]);
            Assert.Equal(waiting, tiles["waiting"]);
            Assert.Equal(status.GetProperty("waiting").GetProperty("bytes").GetInt64(), (long)after["respaldo_bytes_waiting" + l]);
            Assert.Equal(status.GetProperty("held").GetProperty("messages").GetInt32(), (int)after["respaldo_messages_held" + l]);
            Assert.Equal(tiles["held"], (int)after["respaldo_messages_held" + l]);
            Assert.Equal(tiles["handed-over"], (int)after[$"respaldo_handovers_total{{tenant=\"{tenant}\",outcome=\"delivered\"}}"]);
            Assert.Equal(status.GetProperty("handedOver").GetProperty("total").GetInt32(), tiles["handed-over"]);
            Assert.Equal(status.GetProperty("storage").GetProperty("used").GetInt64(), (long)after["respaldo_storage_used_bytes" + l]);
            Assert.Equal(status.GetProperty("primary").GetProperty("state").GetString() == "up" ? 1 : 0, (int)after["respaldo_primary_up" + l]);
            int probes = (int)(after[$"respaldo_probes_total{{tenant=\"{tenant}\",result=\"up\"}}"] + after[$"respaldo_probes_total{{tenant=\"{tenant}\",result=\"down\"}}"]);
            // Note: no Accept-Language here, so the page speaks Spanish (the default).
            Assert.Contains($"{probes} intentos en total", attemptsPage, StringComparison.Ordinal);
            Assert.True(probes > 0, "the primary was probed while mail waited");
            return;
        }
        Assert.Fail(last);
    }
}
