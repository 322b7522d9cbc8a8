using System.Globalization;
using System.Net;
using System.Text.Json;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Dashboard;

/// <summary>
/// Issue 13: the dashboard found a held message by searching the newest 1,000 holds, so with
/// more than that an older one could be neither retried nor bounced. With 1,500 held, the
/// oldest is released from the dashboard, and the API counts every one of them.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class ManyHoldsTests(LabFixture lab)
{
    private const int Holds = 1500;

    private string Tenant => lab["DASHBOARD_TENANT"];

    [Fact]
    public async Task WithFifteenHundredHoldsTheOldestIsReleasedFromTheDashboard()
    {
        string run = Guid.NewGuid().ToString("N")[..10];
        string mailbox = lab["HELD_MAILBOX"];
        await lab.RunLabAsync("controller-kill");
        try
        {
            HoldAreaFiller.Fill(lab["HOLD_DIR"], Tenant, mailbox, run, Holds);
            await lab.RunLabAsync("controller-start");
            List<long> ids = await Eventually.WaitAsync(() => Task.FromResult(HoldAreaFiller.HeldIds(lab["JOURNAL"], run)), i => i.Count == Holds,
                TimeSpan.FromSeconds(120), "1,500 held files recorded");
            long oldest = ids[0];

            using var client = new DashboardClient(lab["DASHBOARD_URL"]);
            Assert.Equal(HttpStatusCode.Redirect, await client.LoginAsync(lab["DASHBOARD_USER"], lab["DASHBOARD_PASSWORD"]));
            JsonElement status = await client.JsonAsync($"/api/v1/tenants/{Tenant}/status", lab["API_TOKEN"]);
            Assert.True(status.GetProperty("held").GetProperty("messages").GetInt32() >= Holds, status.ToString());
            JsonElement listed = await client.JsonAsync($"/api/v1/tenants/{Tenant}/held", lab["API_TOKEN"]);
            Assert.DoesNotContain(listed.EnumerateArray(), h => h.GetProperty("id").GetInt64() == oldest);

            (HttpStatusCode code, string page, _) = await client.PostWithTokenAsync($"/t/{Tenant}/handovers", $"/t/{Tenant}/handovers?handler=Retry",
                [new("id", oldest.ToString(CultureInfo.InvariantCulture))]);
            Assert.Equal(HttpStatusCode.OK, code);
            Assert.Contains("data-testid=\"notice\">OK<", page, StringComparison.Ordinal);
            Assert.Equal("released", (string?)LabJournal.Query(lab["JOURNAL"], $"SELECT state FROM holds WHERE id = {oldest}")[0][0]);
            Assert.DoesNotContain(oldest, HoldAreaFiller.HeldIds(lab["JOURNAL"], run));
        }
        finally
        {
            await lab.RunLabAsync("controller-kill", check: false);
            HoldAreaFiller.Clear(lab["JOURNAL"], lab["STATE_DIR"], run);
            await lab.RunLabAsync("controller-start");
        }
    }
}
