using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Border;

/// <summary>
/// "Bounce to sender" as the dashboard's users meet it, with the border on: a tenant's user may
/// bounce a held message whose sender passed SPF at the backup's border, but not one whose
/// sender failed it (the notice would be backscatter to whoever was forged); a provider admin
/// may, warned.
/// </summary>
[Collection(BorderBrowserCollection.Name)]
public sealed class BounceBrowserTests(BorderBrowserLab lab)
{
    private static byte[] Message(string from, string to, string subject) => Encoding.UTF8.GetBytes(
        $"From: {from}\nTo: {to}\nSubject: {subject}\nMessage-ID: <{Guid.NewGuid():N}@{from.Split('@')[1]}>\n" +
        $"Date: {DateTimeOffset.UtcNow.ToString("ddd, dd MMM yyyy HH:mm:ss +0000", System.Globalization.CultureInfo.InvariantCulture)}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nHola.\n");

    private static string Zone(string domain, string spf) =>
        $"$ORIGIN {domain}.\n$TTL 60\n@ IN SOA ns.lab.test. hostmaster.lab.test. 1 60 60 600 60\n@ IN NS ns.lab.test.\n" +
        $"@ IN TXT \"{spf}\"\n_dmarc IN TXT \"v=DMARC1; p=none\"\n";

    private async Task SendAsync(string sender, string to, string subject)
    {
        await using SmtpTestClient smtp = await SmtpTestClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port);
        await smtp.CommandAsync("EHLO mx." + sender.Split('@')[1]);
        SmtpReply reply = await smtp.SendAsync(sender, [to], Message(sender, to, subject));
        Assert.True(reply.Code == 250, $"{sender}: {reply.Code} {reply.Text}");
    }

    /// <summary>The ids of the held messages of these senders, once the hand-over has held them all.</summary>
    private async Task<Dictionary<string, long>> HeldAsync(params string[] senders)
    {
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", lab["API_TOKEN"]);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(120))
        {
            using JsonDocument held = JsonDocument.Parse(await http.GetStringAsync($"{lab["WEB_URL"]}/api/v1/tenants/suempresa/held"));
            var ids = held.RootElement.EnumerateArray()
                .Where(h => senders.Contains(h.GetProperty("sender").GetString()))
                .GroupBy(h => h.GetProperty("sender").GetString()!)
                .ToDictionary(g => g.Key, g => g.Max(h => h.GetProperty("id").GetInt64()));
            if (ids.Count == senders.Length)
            {
                return ids;
            }
            await Task.Delay(250);
        }
        throw new TimeoutException("the hand-over did not hold the messages to " + lab["HELD_MAILBOX"]);
    }

    private async Task<IPage> HandOversAsync(string user)
    {
        IPage page = await lab.NewPageAsync("es-ES");
        await page.GotoAsync(lab["DASHBOARD_URL"] + "/login");
        await page.FillAsync("#user", user);
        await page.FillAsync("#password", lab["DASHBOARD_PASSWORD"]);
        await page.ClickAsync("[data-testid=login-submit]");
        await page.WaitForLoadStateAsync(LoadState.Load);
        await page.GotoAsync($"{lab["DASHBOARD_URL"]}/t/suempresa/handovers");
        return page;
    }

    [Fact]
    public async Task ATenantUserCannotBounceToAForgedSenderButAnAdminMayWarned()
    {
        await lab.RunLabAsync("primary-down");
        await File.WriteAllTextAsync(Path.Combine(lab["DNS_ZONES"], "genuine.test.zone"), Zone("genuine.test", "v=spf1 ip4:127.0.0.1 -all"));
        await File.WriteAllTextAsync(Path.Combine(lab["DNS_ZONES"], "forged.test.zone"), Zone("forged.test", "v=spf1 ip4:127.0.0.10 -all"));
        await lab.RunLabAsync("dns-reload");
        string held = lab["HELD_MAILBOX"];
        const string Genuine = "pedidos@genuine.test", Forged = "victima@forged.test";
        await SendAsync(Genuine, held, TestMessages.Unique("bounce-genuine"));
        await SendAsync(Forged, held, TestMessages.Unique("bounce-forged"));
        await lab.RunLabAsync("primary-up");
        Dictionary<string, long> ids = await HeldAsync(Genuine, Forged);
        string genuineRow = $"[data-testid=held] tr[data-id='{ids[Genuine]}']", forgedRow = $"[data-testid=held] tr[data-id='{ids[Forged]}']";

        IPage tenant = await HandOversAsync(lab["DASHBOARD_USER"]);
        Assert.Equal("aligned", await tenant.GetAttributeAsync($"{genuineRow} [data-testid=sender-check]", "data-value"));
        Assert.Equal("notaligned", await tenant.GetAttributeAsync($"{forgedRow} [data-testid=sender-check]", "data-value"));
        Assert.Equal(0, await tenant.Locator($"{forgedRow} [data-testid=bounce]").CountAsync());
        await BrowserLab.ShotAsync(tenant, "bounce-tenant");
        // The attack: the form posted anyway, with a valid token, for the forged sender's message.
        string token = (await tenant.GetAttributeAsync("input[name=__csrf]", "value"))!;
        IAPIResponse forced = await tenant.Context.APIRequest.PostAsync($"{lab["DASHBOARD_URL"]}/t/suempresa/handovers?handler=Bounce", new APIRequestContextOptions
        {
            Form = tenant.Context.APIRequest.CreateFormData().Append("id", ids[Forged].ToString(System.Globalization.CultureInfo.InvariantCulture)).Append("__csrf", token),
        });
        Assert.Equal(403, forced.Status);
        Assert.Contains("No se ha devuelto", await forced.TextAsync(), StringComparison.Ordinal);
        // The genuine sender's may be bounced by the tenant's user.
        await tenant.ClickAsync($"{genuineRow} [data-testid=bounce]");
        await tenant.WaitForSelectorAsync("[data-testid=notice]");
        Assert.Equal("OK", (await tenant.TextContentAsync("[data-testid=notice]"))!.Trim());
        Assert.Equal(0, await tenant.Locator(genuineRow).CountAsync());
        Assert.Equal(1, await tenant.Locator(forgedRow).CountAsync());

        // The provider's admin may, and is told the sender was not verified.
        IPage admin = await HandOversAsync(lab["DASHBOARD_ADMIN_USER"]);
        Assert.Contains("Devolver igualmente", await admin.TextContentAsync($"{forgedRow} [data-testid=bounce]"), StringComparison.Ordinal);
        await admin.ClickAsync($"{forgedRow} [data-testid=bounce]");
        await admin.WaitForSelectorAsync("[data-testid=notice]");
        Assert.Contains("no estaba verificado", await admin.TextContentAsync("[data-testid=notice]"), StringComparison.Ordinal);
        Assert.Equal(0, await admin.Locator(forgedRow).CountAsync());
        await BrowserLab.ShotAsync(admin, "bounce-admin");
    }
}
