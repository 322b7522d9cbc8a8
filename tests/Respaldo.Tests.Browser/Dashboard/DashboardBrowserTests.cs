using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Dashboard;

/// <summary>
/// The dashboard as a person uses it, in headless Chromium against the running lab: log in,
/// see the real counts while the primary is down, open the mailbox list, press "hand over now"
/// and watch it reach n of n, see the connection attempts grow.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardBrowserTests(BrowserLab lab)
{
    private string Tenant => lab["DASHBOARD_TENANT"];

    private static readonly string[] Mailboxes = ["info@suempresa.test", "ventas@suempresa.test", "juan@norte.suempresa.test"];

    private async Task SendAsync(params string[] recipients)
    {
        await using SmtpTestClient smtp = await SmtpTestClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port);
        await smtp.CommandAsync("EHLO browser.example.org");
        foreach (string to in recipients)
        {
            SmtpReply reply = await smtp.SendAsync("sender@example.org", [to], TestMessages.Plain(TestMessages.Unique("web"), to));
            Assert.True(reply.Code == 250, reply.Text);
        }
    }

    /// <summary>Messages stored in the backup's maildirs right now (what the controller should report).</summary>
    private int Stored() => Mailboxes.Append(lab["HELD_MAILBOX"]).Sum(m => lab.BackupMessages(m).Count());

    /// <summary>
    /// Sends to <paramref name="recipients"/> and waits until they are stored and the controller's
    /// index has caught up with the maildirs (inotify, milliseconds); returns what waits then.
    /// </summary>
    private async Task<int> SendAndSettleAsync(params string[] recipients)
    {
        int before = Stored();
        await SendAsync(recipients);
        using var api = new DashboardClient(lab["DASHBOARD_URL"]);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            int stored = Stored();
            JsonElement status = await api.JsonAsync($"/api/v1/tenants/{Tenant}/status", lab["API_TOKEN"]);
            int waiting = status.GetProperty("waiting").GetProperty("messages").GetInt32();
            if (stored >= before + recipients.Length && waiting == stored)
            {
                return waiting;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"the backup did not settle at {before} + {recipients.Length} messages (stored {Stored()})");
    }

    /// <summary>Waits until the controller has probed and found the primary in <paramref name="state"/>.</summary>
    private async Task PrimaryStateAsync(string state)
    {
        using var api = new DashboardClient(lab["DASHBOARD_URL"]);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            JsonElement status = await api.JsonAsync($"/api/v1/tenants/{Tenant}/status", lab["API_TOKEN"]);
            if (status.GetProperty("primary").GetProperty("state").GetString() == state)
            {
                return;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"the primary was not seen {state}");
    }

    private static async Task<int> ValueAsync(IPage page, string testId) =>
        int.Parse((await page.GetAttributeAsync($"[data-testid={testId}] [data-value]", "data-value"))!, CultureInfo.InvariantCulture);

    [Fact]
    public async Task LogsInAndSeesTheRealCountsWhileThePrimaryIsDown()
    {
        await lab.RunLabAsync("primary-down");
        int waiting = await SendAndSettleAsync("info@suempresa.test", "ventas@suempresa.test", "juan@norte.suempresa.test");
        await PrimaryStateAsync("down");

        IPage page = await lab.NewPageAsync();
        await lab.LogInAsync(page);
        Assert.Equal(waiting, await ValueAsync(page, "waiting"));
        Assert.Equal(waiting, Stored());
        Assert.True(await ValueAsync(page, "received-today") >= 3);
        Assert.Equal("Caído", (await page.TextContentAsync("[data-testid=primary] .badge"))!.Trim());
        Assert.Equal("down", await page.GetAttributeAsync("[data-testid=primary] .badge", "data-value"));
        Assert.True(await page.Locator("[data-testid=chart-24h] svg rect[data-state=down]").CountAsync() > 0);
        await BrowserLab.ShotAsync(page, "overview-primary-down");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task OpensTheMailboxListWithEachMailboxsCount()
    {
        await lab.RunLabAsync("primary-down");
        await SendAndSettleAsync("ventas@suempresa.test", "ventas@suempresa.test");

        IPage page = await lab.NewPageAsync();
        await lab.LogInAsync(page);
        await page.ClickAsync($"nav a[href='/t/{Tenant}/mailboxes']");
        await page.WaitForURLAsync($"**/t/{Tenant}/mailboxes");
        foreach (string mailbox in Mailboxes)
        {
            string? count = await page.GetAttributeAsync($"tr[data-mailbox='{mailbox}'] td[data-value]", "data-value");
            Assert.Equal(lab.BackupMessages(mailbox).Count().ToString(CultureInfo.InvariantCulture), count);
        }
        Assert.True(int.Parse((await page.GetAttributeAsync("tr[data-mailbox='ventas@suempresa.test'] td[data-value]", "data-value"))!, CultureInfo.InvariantCulture) >= 2);
        await BrowserLab.ShotAsync(page, "mailboxes");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task HandOverNowShowsTheProgressUntilNOfN()
    {
        await lab.RunLabAsync("primary-down");
        int waiting = await SendAndSettleAsync("info@suempresa.test", "info@suempresa.test", "ventas@suempresa.test", "juan@norte.suempresa.test");
        int held = lab.BackupMessages(lab["HELD_MAILBOX"]).Count();

        IPage page = await lab.NewPageAsync();
        await lab.LogInAsync(page);
        Assert.Equal(waiting, await ValueAsync(page, "waiting"));
        await lab.RunLabAsync("primary-up");
        await page.ClickAsync("[data-testid=handover-now]");
        await page.WaitForURLAsync($"**/t/{Tenant}/handover?since=*");

        // Live updates (live.js polling the JSON API) until the run is finished: n of n.
        await page.Locator("[data-testid=progress-finished]").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Visible, Timeout = 60_000 });
        var clock = Stopwatch.StartNew();
        string done = "", total = "";
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            done = (await page.TextContentAsync("[data-testid=progress-done]"))!.Trim();
            total = (await page.TextContentAsync("[data-testid=progress-total]"))!.Trim();
            if (total == waiting.ToString(CultureInfo.InvariantCulture) && done == (waiting - held).ToString(CultureInfo.InvariantCulture))
            {
                break;
            }
            await Task.Delay(200);
        }
        Assert.Equal(waiting.ToString(CultureInfo.InvariantCulture), total);
        Assert.Equal((waiting - held).ToString(CultureInfo.InvariantCulture), done);
        await BrowserLab.ShotAsync(page, "handover-finished");
        Assert.Equal(held, Stored());

        await page.GotoAsync($"{lab["DASHBOARD_URL"]}/t/{Tenant}");
        Assert.Equal(held, await ValueAsync(page, "waiting"));
        Assert.Equal("up", await page.GetAttributeAsync("[data-testid=primary] .badge", "data-value"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task TheAttemptsLogGrows()
    {
        await lab.RunLabAsync("primary-down");
        await SendAndSettleAsync("info@suempresa.test");
        IPage page = await lab.NewPageAsync();
        await lab.LogInAsync(page);
        await page.GotoAsync($"{lab["DASHBOARD_URL"]}/t/{Tenant}/attempts");
        int before = await page.Locator("[data-testid=attempts] tbody tr").CountAsync();
        Assert.True(before > 0, "the primary was probed while mail waited");
        Assert.True(await page.Locator("[data-testid=attempts] tbody tr td.bad").CountAsync() > 0);
        await BrowserLab.ShotAsync(page, "attempts-before");

        // "Hand over now" probes at once: the log must show one more attempt.
        await page.GotoAsync($"{lab["DASHBOARD_URL"]}/t/{Tenant}");
        await page.ClickAsync("[data-testid=handover-now]");
        var clock = Stopwatch.StartNew();
        int after = before;
        while (clock.Elapsed < TimeSpan.FromSeconds(30) && after <= before)
        {
            await page.GotoAsync($"{lab["DASHBOARD_URL"]}/t/{Tenant}/attempts?result=down");
            after = await page.Locator("[data-testid=attempts] tbody tr").CountAsync();
            await Task.Delay(200);
        }
        Assert.True(after > before || after == 100, $"attempts: {before} then {after}");
        await BrowserLab.ShotAsync(page, "attempts-after");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task SpeaksSpanishOrEnglishAndSwitches()
    {
        IPage page = await lab.NewPageAsync("en-GB");
        await lab.LogInAsync(page);
        Assert.Equal("Mailboxes", (await page.TextContentAsync($"nav a[href='/t/{Tenant}/mailboxes']"))!.Trim());
        await page.ClickAsync("[data-testid=lang-switch]");
        await page.WaitForURLAsync($"**/t/{Tenant}");
        Assert.Equal("Buzones", (await page.TextContentAsync($"nav a[href='/t/{Tenant}/mailboxes']"))!.Trim());
        Assert.Equal("es", await page.GetAttributeAsync("html", "lang"));
        await BrowserLab.ShotAsync(page, "overview-spanish");
        await page.Context.CloseAsync();
    }
}
