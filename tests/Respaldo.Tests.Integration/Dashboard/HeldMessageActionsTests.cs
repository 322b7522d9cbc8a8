using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Dashboard;

/// <summary>
/// The hand-over log's actions on a held message, through the dashboard against the lab: "retry"
/// puts it back for another hand-over (the primary refuses it again: held again, nothing lost);
/// "bounce to sender" sends an RFC 3464 report with the null sender out through the backup's own
/// Postfix to the sender's (external) mailbox and keeps the copy aside.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class HeldMessageActionsTests(LabFixture lab)
{
    private string Tenant => lab["DASHBOARD_TENANT"];

    private async Task<JsonElement> HoldOneAsync(DashboardClient client, string subject)
    {
        await lab.RunLabAsync("primary-up");
        await using (SmtpTestClient smtp = await SmtpTestClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port))
        {
            await smtp.CommandAsync("EHLO held.example.org");
            SmtpReply r = await smtp.SendAsync(lab["ALERT_MAILBOX"], [lab["HELD_MAILBOX"]], TestMessages.Plain(subject, lab["HELD_MAILBOX"]));
            Assert.True(r.Code == 250, r.Text);
        }
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            await client.PostAsync($"/api/v1/tenants/{Tenant}/handover-now", [], lab["API_TOKEN"]);
            JsonElement held = await client.JsonAsync($"/api/v1/tenants/{Tenant}/held", lab["API_TOKEN"]);
            foreach (JsonElement h in held.EnumerateArray())
            {
                string path = Path.Combine(lab["HOLD_DIR"], Tenant, lab["HELD_MAILBOX"], h.GetProperty("message").GetString()!);
                if (File.Exists(path) && File.ReadAllText(path).Contains($"Subject: {subject}\n", StringComparison.Ordinal))
                {
                    return h;
                }
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"'{subject}' was not held");
    }

    [Fact]
    public async Task RetryPutsAHeldMessageBackAndTheRefusalHoldsItAgain()
    {
        using var client = new DashboardClient(lab["DASHBOARD_URL"]);
        Assert.Equal(HttpStatusCode.Redirect, await client.LoginAsync(lab["DASHBOARD_USER"], lab["DASHBOARD_PASSWORD"]));
        string subject = TestMessages.Unique("retry");
        JsonElement first = await HoldOneAsync(client, subject);
        long id = first.GetProperty("id").GetInt64();
        Assert.Contains("550", first.GetProperty("reason").GetString(), StringComparison.Ordinal);

        (HttpStatusCode status, string page, _) = await client.PostWithTokenAsync($"/t/{Tenant}/handovers", $"/t/{Tenant}/handovers?handler=Retry", [new("id", id.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("data-testid=\"notice\">OK<", page, StringComparison.Ordinal);

        // Back in the mailbox, handed over again, refused again: a new hold of the same message.
        JsonElement again = await HoldOneAsyncAfterRetryAsync(client, first.GetProperty("message").GetString()!, id);
        Assert.NotEqual(id, again.GetProperty("id").GetInt64());
    }

    private async Task<JsonElement> HoldOneAsyncAfterRetryAsync(DashboardClient client, string message, long oldId)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            await client.PostAsync($"/api/v1/tenants/{Tenant}/handover-now", [], lab["API_TOKEN"]);
            JsonElement held = await client.JsonAsync($"/api/v1/tenants/{Tenant}/held", lab["API_TOKEN"]);
            if (held.EnumerateArray().FirstOrDefault(h => h.GetProperty("message").GetString() == message && h.GetProperty("id").GetInt64() != oldId) is { ValueKind: JsonValueKind.Object } found)
            {
                Assert.DoesNotContain(held.EnumerateArray(), h => h.GetProperty("id").GetInt64() == oldId);
                return found;
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"{message} was not held again after the retry");
    }

    [Fact]
    public async Task BounceSendsADeliveryReportToTheSenderThroughTheBackupsOwnPostfix()
    {
        // Note: this lab runs without the border (no Authentication-Results of ours), so no
        // sender is verified: the tenant's user may not bounce (backscatter), the provider's
        // admin may, warned. Both are driven here; the border's own case is in the browser tier.
        using var client = new DashboardClient(lab["DASHBOARD_URL"]);
        Assert.Equal(HttpStatusCode.Redirect, await client.LoginAsync(lab["DASHBOARD_USER"], lab["DASHBOARD_PASSWORD"]));
        string subject = TestMessages.Unique("bounce");
        JsonElement held = await HoldOneAsync(client, subject);
        string message = held.GetProperty("message").GetString()!;
        string id = held.GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);

        (HttpStatusCode refused, _, _) = await client.PostWithTokenAsync($"/t/{Tenant}/handovers", $"/t/{Tenant}/handovers?handler=Bounce", [new("id", id)]);
        Assert.Equal(HttpStatusCode.Forbidden, refused);
        JsonElement stillHeld = await client.JsonAsync($"/api/v1/tenants/{Tenant}/held", lab["API_TOKEN"]);
        Assert.Contains(stillHeld.EnumerateArray(), h => h.GetProperty("message").GetString() == message);

        using var admin = new DashboardClient(lab["DASHBOARD_URL"]);
        Assert.Equal(HttpStatusCode.Redirect, await admin.LoginAsync(lab["DASHBOARD_ADMIN_USER"], lab["DASHBOARD_ADMIN_PASSWORD"]));
        (HttpStatusCode status, string page, _) = await admin.PostWithTokenAsync($"/t/{Tenant}/handovers", $"/t/{Tenant}/handovers?handler=Bounce", [new("id", id)]);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("class=\"ok\" role=\"status\" data-testid=\"notice\"", page, StringComparison.Ordinal);

        string? report = null;
        for (int i = 0; i < 300 && report is null; i++)
        {
            report = LabFixture.Messages(lab["EXTERNAL_MAILDIRS"], lab["ALERT_MAILBOX"]).Select(File.ReadAllText)
                .FirstOrDefault(t => t.Contains("multipart/report", StringComparison.Ordinal) && t.Contains($"Subject: {subject}", StringComparison.Ordinal));
            await Task.Delay(100);
        }
        Assert.NotNull(report);
        Assert.StartsWith("Return-Path: <>", report, StringComparison.Ordinal);
        Assert.Contains($"Final-Recipient: rfc822; {lab["HELD_MAILBOX"]}", report, StringComparison.Ordinal);
        Assert.DoesNotContain($"Cuerpo de {subject}", report, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(lab["STATE_DIR"], "bounced", Tenant, lab["HELD_MAILBOX"], message)), "the bounced copy is kept aside");
        JsonElement still = await client.JsonAsync($"/api/v1/tenants/{Tenant}/held", lab["API_TOKEN"]);
        Assert.DoesNotContain(still.EnumerateArray(), h => h.GetProperty("message").GetString() == message);
    }
}
