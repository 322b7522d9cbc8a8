using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Alerts;

/// <summary>
/// Alerts end to end: the lab's backup tells the customer's external mailbox (a real Postfix
/// outside the tenant's domains, reached through the backup's own Postfix, never the primary)
/// and a webhook (a listener in this test) about an outage, from its first message to the
/// primary's return, with a held message on the way.
/// </summary>
[Collection(AlertLabCollection.Name)]
public sealed class AlertTests(AlertLabFixture lab)
{
    private sealed record MailAlert(string Kind, string Id, string Text);

    private IReadOnlyList<MailAlert> ExternalAlerts() => LabFixture.Messages(lab["EXTERNAL_MAILDIRS"], lab["ALERT_MAILBOX"])
        .Select(File.ReadAllText)
        .Select(text => new MailAlert(Header(text, "X-Respaldo-Alert"), Header(text, "X-Respaldo-Alert-Id"), text))
        .Where(a => a.Kind.Length > 0)
        .ToList();

    private static string Header(string message, string name)
    {
        string head = message.Split("\n\n", 2)[0];
        return head.Split('\n').FirstOrDefault(l => l.StartsWith(name + ": ", StringComparison.OrdinalIgnoreCase))?[(name.Length + 2)..].Trim() ?? "";
    }

    private async Task<MailAlert> WaitForAlertAsync(string kind, TimeSpan within, ISet<string> seen)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < within)
        {
            if (ExternalAlerts().FirstOrDefault(a => a.Kind == kind && !seen.Contains(a.Id)) is { } found)
            {
                seen.Add(found.Id);
                return found;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"no {kind} alert at {lab["ALERT_MAILBOX"]} within {within.TotalSeconds} s; have: {string.Join(", ", ExternalAlerts().Select(a => a.Kind))}");
    }

    private async Task SendAsync(string to, string subject)
    {
        await using SmtpTestClient smtp = await SmtpTestClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port);
        await smtp.CommandAsync("EHLO alerts.example.org");
        SmtpReply reply = await smtp.SendAsync("sender@example.org", [to], TestMessages.Plain(subject, to));
        Assert.True(reply.Code == 250, reply.Text);
    }

    [Fact]
    public async Task AnOutageIsToldByMailAndWebhookFromFirstArrivalToPrimaryBack()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        lab.Webhook.RefuseNext(1);   // the first webhook delivery fails: it must be retried
        await lab.RunLabAsync("primary-down");

        // 1. The first message of the outage: told at once.
        var clock = Stopwatch.StartNew();
        await SendAsync("info@suempresa.test", TestMessages.Unique("first"));
        MailAlert first = await WaitForAlertAsync("first-arrival", TimeSpan.FromSeconds(30), seen);
        TimeSpan firstAfter = clock.Elapsed;
        Assert.True(firstAfter < TimeSpan.FromSeconds(10), $"the first-arrival alert took {firstAfter.TotalSeconds:0.0} s");
        Assert.Contains("info@suempresa.test: 1", first.Text, StringComparison.Ordinal);
        Assert.Contains("From: Respaldo <respaldo@mail-backup.suempresa.test>", first.Text, StringComparison.Ordinal);

        // 2. The probe that follows finds the primary down: told once.
        MailAlert down = await WaitForAlertAsync("primary-down", TimeSpan.FromSeconds(30), seen);
        Assert.Contains("Connection refused", down.Text, StringComparison.Ordinal);

        // 3. More mail in the same outage: no alert each, one digest with counts per mailbox.
        await SendAsync("info@suempresa.test", TestMessages.Unique("second"));
        await SendAsync("ventas@suempresa.test", TestMessages.Unique("third"));
        await SendAsync(lab["HELD_MAILBOX"], TestMessages.Unique("held"));
        // (A digest is due 5 s after the last arrival alert; under load the three may straddle one,
        // so collect the digests until all three mailboxes were told.)
        var digests = new List<MailAlert>();
        string[] expected = ["info@suempresa.test", "ventas@suempresa.test", lab["HELD_MAILBOX"]];
        var digestClock = Stopwatch.StartNew();
        while (!expected.All(m => digests.Any(d => d.Text.Contains($"  {m}: ", StringComparison.Ordinal))))
        {
            TimeSpan left = TimeSpan.FromSeconds(AlertLabFixture.DigestSeconds * 6) - digestClock.Elapsed;
            Assert.True(left > TimeSpan.Zero, $"digests so far: {string.Join(" | ", digests.Select(d => d.Id))}");
            digests.Add(await WaitForAlertAsync("arrival-digest", left, seen));
        }
        Assert.True(digests.Count <= 2, $"{digests.Count} digests for three messages sent together");
        Assert.DoesNotContain(ExternalAlerts(), a => a.Kind == "first-arrival" && a.Id != first.Id);

        // 4. The primary comes back: three messages go, the one for a mailbox it lacks is held.
        await lab.RunLabAsync("primary-up");
        using (var client = new DashboardClient(lab["DASHBOARD_URL"]))
        {
            Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/api/v1/tenants/{lab["DASHBOARD_TENANT"]}/handover-now", [], lab["API_TOKEN"])).Status);
        }
        MailAlert held = await WaitForAlertAsync("message-held", TimeSpan.FromSeconds(60), seen);
        Assert.Contains(lab["HELD_MAILBOX"], held.Text, StringComparison.Ordinal);
        Assert.Contains("550", held.Text, StringComparison.Ordinal);
        MailAlert back = await WaitForAlertAsync("primary-back", TimeSpan.FromSeconds(60), seen);
        Assert.Contains("Handed over: 3 message(s)", back.Text, StringComparison.Ordinal);

        // 5. The webhook heard the same alerts (the first after one refused attempt).
        var clockHook = Stopwatch.StartNew();
        HashSet<string> hooked = [];
        while (clockHook.Elapsed < TimeSpan.FromSeconds(60) && !seen.IsSubsetOf(hooked))
        {
            hooked = lab.Webhook.Received.Select(j => j.GetProperty("id").GetString()!).ToHashSet(StringComparer.Ordinal);
            await Task.Delay(200);
        }
        Assert.True(seen.IsSubsetOf(hooked), $"webhook lacks {string.Join(", ", seen.Except(hooked))}");
        Assert.Equal(1, lab.Webhook.Refused);
        JsonElement hookBack = lab.Webhook.Received.Single(j => j.GetProperty("id").GetString() == back.Id);
        Assert.Equal("primary-back", hookBack.GetProperty("kind").GetString());
        Assert.Equal(3, hookBack.GetProperty("handedOver").GetInt32());
        // Counts per mailbox across the digests: one each; and never two arrival alerts within an interval.
        List<JsonElement> arrivalsHooked = lab.Webhook.Received
            .Where(j => j.GetProperty("kind").GetString() is "first-arrival" or "arrival-digest")
            .OrderBy(j => j.GetProperty("at").GetDateTimeOffset()).ToList();
        var counts = arrivalsHooked.Where(j => j.GetProperty("kind").GetString() == "arrival-digest")
            .SelectMany(j => j.GetProperty("mailboxes").EnumerateArray())
            .GroupBy(m => m.GetProperty("mailbox").GetString()!).ToDictionary(g => g.Key, g => g.Sum(m => m.GetProperty("count").GetInt32()));
        Assert.Equal(expected.Order(), counts.Keys.Order());
        Assert.All(counts.Values, c => Assert.Equal(1, c));
        for (int i = 1; i < arrivalsHooked.Count; i++)
        {
            TimeSpan gap = arrivalsHooked[i].GetProperty("at").GetDateTimeOffset() - arrivalsHooked[i - 1].GetProperty("at").GetDateTimeOffset();
            Assert.True(gap >= TimeSpan.FromSeconds(AlertLabFixture.DigestSeconds - 0.5), $"two arrival alerts {gap.TotalSeconds:0.0} s apart");
        }

        // 6. The journal has them, and the dashboard shows them, with each channel's state.
        using var dashboard = new DashboardClient(lab["DASHBOARD_URL"]);
        JsonElement alerts = await dashboard.JsonAsync($"/api/v1/tenants/{lab["DASHBOARD_TENANT"]}/alerts", lab["API_TOKEN"]);
        var byKind = alerts.EnumerateArray().ToList();
        foreach (string kind in new[] { "first-arrival", "primary-down", "arrival-digest", "message-held", "primary-back" })
        {
            JsonElement a = byKind.First(x => x.GetProperty("kind").GetString() == kind);
            Assert.Equal("sent", a.GetProperty("email").GetString());
            Assert.Equal("sent", a.GetProperty("webhook").GetString());
        }
        // The one refused delivery (whichever alert it was: they go out concurrently) was retried: one
        // alert took two webhook attempts, every other one.
        Assert.Equal(byKind.Count + 1, byKind.Sum(x => x.GetProperty("webhookAttempts").GetInt32()));
        Assert.Single(byKind, x => x.GetProperty("webhookAttempts").GetInt32() == 2);
        Assert.Empty(LabFixture.Messages(lab["PRIMARY_MAILDIRS"], lab["ALERT_MAILBOX"]));
    }
}
