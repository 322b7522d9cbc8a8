using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Border;

/// <summary>The browser lab with the border on (rspamd as the milter, the lab's DNS).</summary>
public sealed class BorderBrowserLab : BrowserLab
{
    public BorderBrowserLab()
        : base("browser-border", new Dictionary<string, string> { ["LAB_FILTER"] = "on" })
    {
    }
}

[CollectionDefinition(Name)]
public sealed class BorderBrowserCollection : ICollectionFixture<BorderBrowserLab>
{
    public const string Name = "browser border lab";
}

/// <summary>
/// What a person sees of the border: the webmail's SPF/DKIM/DMARC badges tell a genuine
/// message from a forged one, and the dashboard's "Refused at the border" table counts what
/// was refused, as the JSON API does.
/// </summary>
[Collection(BorderBrowserCollection.Name)]
public sealed class BorderBrowserTests(BorderBrowserLab lab)
{
    private const string Mailbox = "info@suempresa.test";

    private static byte[] Message(string from, string subject, string body = "Hola.") => Encoding.UTF8.GetBytes(
        $"From: {from}\nTo: {Mailbox}\nSubject: {subject}\nMessage-ID: <{Guid.NewGuid():N}@{from.Split('@')[1].TrimEnd('>')}>\n" +
        // Note: the real date: rspamd scores a Date in the future (DATE_IN_FUTURE, 4 points).
        $"Date: {DateTimeOffset.UtcNow.ToString("ddd, dd MMM yyyy HH:mm:ss +0000", System.Globalization.CultureInfo.InvariantCulture)}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n" + body + "\n");

    private async Task<SmtpReply> SendAsync(string sender, byte[] message)
    {
        await using SmtpTestClient smtp = await SmtpTestClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port);
        await smtp.CommandAsync("EHLO mx." + sender.Split('@')[1]);
        return await smtp.SendAsync(sender, [Mailbox], message);
    }

    private static string Zone(string domain, string spf) =>
        $"$ORIGIN {domain}.\n$TTL 60\n@ IN SOA ns.lab.test. hostmaster.lab.test. 1 60 60 600 60\n@ IN NS ns.lab.test.\n" +
        $"@ IN TXT \"{spf}\"\n_dmarc IN TXT \"v=DMARC1; p=none\"\n";

    [Fact]
    public async Task TheWebmailShowsWhatTheBorderFoundAndTheDashboardCountsWhatItRefused()
    {
        await lab.RunLabAsync("primary-down");
        await File.WriteAllTextAsync(Path.Combine(lab["DNS_ZONES"], "genuine.test.zone"), Zone("genuine.test", "v=spf1 ip4:127.0.0.1 -all"));
        await File.WriteAllTextAsync(Path.Combine(lab["DNS_ZONES"], "forged.test.zone"), Zone("forged.test", "v=spf1 ip4:127.0.0.10 -all"));
        await lab.RunLabAsync("dns-reload");

        string genuine = TestMessages.Unique("genuine");
        string forged = TestMessages.Unique("forged");
        SmtpReply g = await SendAsync("ana@genuine.test", Message("Ana <ana@genuine.test>", genuine));
        Assert.True(g.Code == 250, $"genuine: {g.Code} {g.Text}");
        // Note: SPF -all fails, but with DMARC p=none that adds to the score only: accepted,
        // and the badge is what tells the reader.
        SmtpReply f = await SendAsync("director@forged.test", Message("Director <director@forged.test>", forged));
        Assert.True(f.Code == 250, $"forged: {f.Code} {f.Text}");
        SmtpReply spam = await SendAsync("ana@genuine.test", Message("Ana <ana@genuine.test>", TestMessages.Unique("gtube"),
            "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"));
        Assert.True(spam.Code == 554, $"GTUBE: {spam.Code} {spam.Text}");

        IPage mail = await lab.NewPageAsync("es-ES");
        await mail.GotoAsync(lab["WEBMAIL_URL"] + "/login");
        await mail.FillAsync("#address", Mailbox);
        await mail.FillAsync("#password", lab["WEBMAIL_PASSWORD"]);
        await mail.ClickAsync("[data-testid=login-submit]");
        await mail.WaitForURLAsync(lab["WEBMAIL_URL"]);
        foreach ((string subject, string spf, string tone) in new[] { (genuine, "pass", "ok"), (forged, "fail", "bad") })
        {
            await mail.GotoAsync(lab["WEBMAIL_URL"]);
            await mail.Locator("[data-testid=messages] tbody tr", new PageLocatorOptions { HasText = subject })
                .Locator("[data-testid=open]").ClickAsync();
            await mail.WaitForURLAsync(new Regex("/webmail/m/\\d+/\\d+$"));
            ILocator badge = mail.Locator("[data-testid=auth-spf]");
            Assert.Equal(spf, await badge.GetAttributeAsync("data-value"));
            Assert.Contains(tone, (await badge.GetAttributeAsync("class"))!, StringComparison.Ordinal);
            // Note: no DKIM signature, so DMARC follows SPF's aligned result.
            Assert.Equal(spf, await mail.Locator("[data-testid=auth-dmarc]").GetAttributeAsync("data-value"));
            Assert.Equal("none", await mail.Locator("[data-testid=auth-dkim]").GetAttributeAsync("data-value"));
            await BrowserLab.ShotAsync(mail, $"border-webmail-{spf}");
        }

        // The refusal is counted from Postfix's log within a second or so.
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", lab["API_TOKEN"]);
        long api = 0;
        for (int i = 0; i < 100 && api == 0; i++)
        {
            using JsonDocument status = JsonDocument.Parse(await http.GetStringAsync($"{lab["WEB_URL"]}/api/v1/tenants/suempresa/status"));
            api = status.RootElement.GetProperty("border").GetProperty("today").GetProperty("refused").GetProperty("spam").GetInt64();
            if (api == 0)
            {
                await Task.Delay(100);
            }
        }
        Assert.Equal(1, api);
        IPage dash = await lab.NewPageAsync("es-ES");
        await lab.LogInAsync(dash);
        Assert.Equal("1", await dash.GetAttributeAsync("[data-testid=border-refused-today-spam]", "data-value"));
        Assert.Equal("0", await dash.GetAttributeAsync("[data-testid=border-refused-today-dmarc]", "data-value"));
        Assert.Contains("Rechazado en la frontera", await dash.ContentAsync(), StringComparison.Ordinal);
        await BrowserLab.ShotAsync(dash, "border-dashboard");
    }
}
