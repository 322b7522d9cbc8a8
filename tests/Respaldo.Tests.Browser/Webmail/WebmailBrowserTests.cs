using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Webmail;

/// <summary>
/// The webmail as a mailbox's user has it, in headless Chromium against the running lab:
/// mail that arrived while the primary is down, read (plain and HTML), attachments, search,
/// reply to the external mailbox; wrong passwords and other mailboxes' ids refused; hostile
/// HTML that neither runs nor loads anything; and the hand-over emptying the webmail while the
/// primary gets every message unaltered, read or not.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class WebmailBrowserTests(BrowserLab lab)
{
    private const string Mailbox = "info@suempresa.test";

    private string Url => lab["WEBMAIL_URL"];

    private async Task SendAsync(string from, byte[] message, string to = Mailbox)
    {
        await using SmtpTestClient smtp = await SmtpTestClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port);
        await smtp.CommandAsync("EHLO browser.example.org");
        SmtpReply reply = await smtp.SendAsync(from, [to], message);
        Assert.True(reply.Code == 250, reply.Text);
    }

    /// <summary>The backup's file of the message whose Subject contains <paramref name="subject"/>, once it is stored.</summary>
    private async Task<string> StoredAsync(string subject)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            string? file = lab.BackupMessages(Mailbox).FirstOrDefault(f => SubjectOf(f)?.Contains(subject, StringComparison.Ordinal) == true);
            if (file is not null)
            {
                return file;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"no message '{subject}' reached the backup");
    }

    private static string? SubjectOf(string file)
    {
        try
        {
            return StoredMail.Header(File.ReadAllBytes(file), "Subject");
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    private async Task<IPage> LogInAsync(string user = Mailbox, string language = "es-ES")
    {
        IPage page = await lab.NewPageAsync(language);
        await page.GotoAsync(Url + "/login");
        await page.FillAsync("#address", user);
        await page.FillAsync("#password", lab["WEBMAIL_PASSWORD"]);
        await page.ClickAsync("[data-testid=login-submit]");
        await page.WaitForURLAsync(Url);
        return page;
    }

    private static ILocator Row(IPage page, string subject) => page.Locator("[data-testid=messages] tbody tr", new PageLocatorOptions { HasText = subject });

    [Fact]
    public async Task ReadsPlainAndHtmlMailThatArrivedWhileThePrimaryIsDown()
    {
        await lab.RunLabAsync("primary-down");
        string plain = TestMessages.Unique("plain");
        string html = TestMessages.Unique("html");
        byte[] attachment = new byte[70_000];
        new Random(8).NextBytes(attachment);
        await SendAsync("sender@example.org", WebmailMessages.Plain(plain, "sender@example.org", "Línea uno\nLínea dos <b>no es HTML</b>"));
        await StoredAsync(plain);
        await Task.Delay(1100); // the list is in arrival order, in whole seconds
        await SendAsync("ana@example.org", WebmailMessages.HtmlWithAttachment(html,
            "<h1>Hola, <i>mundo</i></h1><p><img src=\"cid:logo@example.org\" alt=logo></p>", "informe.bin", attachment));
        await StoredAsync(plain);
        await StoredAsync(html);

        IPage page = await LogInAsync();
        Assert.Contains("llegarán automáticamente", await page.TextContentAsync("[data-testid=banner]"), StringComparison.Ordinal);
        // The tenant's branding from the configuration: its name and colour in the bar.
        Assert.Equal("Correo de Su Empresa", (await page.TextContentAsync("[data-testid=brand]"))!.Trim());
        Assert.Equal("rgb(10, 92, 54)", await page.EvalOnSelectorAsync<string>("header.top", "h => getComputedStyle(h).backgroundColor"));
        Assert.Equal("true", await Row(page, plain).GetAttributeAsync("data-unread"));
        Assert.Equal(1, await Row(page, html).Locator("[data-testid=has-attachments]").CountAsync());
        Assert.Equal(0, await Row(page, plain).Locator("[data-testid=has-attachments]").CountAsync());
        // Newest first: the HTML message came second.
        string[] subjects = (await page.Locator("[data-testid=messages] tbody tr [data-testid=open]").AllTextContentsAsync()).ToArray();
        Assert.True(Array.FindIndex(subjects, s => s.Contains(html, StringComparison.Ordinal)) < Array.FindIndex(subjects, s => s.Contains(plain, StringComparison.Ordinal)));
        await BrowserLab.ShotAsync(page, "webmail-list");

        await Row(page, plain).Locator("[data-testid=open]").ClickAsync();
        await page.WaitForURLAsync(new Regex("/webmail/m/\\d+/\\d+$"));
        string text = (await page.TextContentAsync("[data-testid=text-body]"))!;
        Assert.Contains("Línea dos <b>no es HTML</b>", text, StringComparison.Ordinal);
        await page.ClickAsync("[data-testid=show-headers]");
        Assert.Contains("Message-ID", await page.TextContentAsync("[data-testid=headers]"), StringComparison.OrdinalIgnoreCase);
        await page.GotoAsync(Url);
        Assert.Equal("false", await Row(page, plain).GetAttributeAsync("data-unread"));

        await Row(page, html).Locator("[data-testid=open]").ClickAsync();
        await page.WaitForLoadStateAsync(LoadState.Load);
        IFrameLocator frame = page.FrameLocator("[data-testid=html-body]");
        Assert.Equal("Hola, mundo", (await frame.Locator("h1").TextContentAsync())!.Trim());
        Assert.StartsWith("data:image/png;base64,", await frame.Locator("img[alt=logo]").GetAttributeAsync("src"), StringComparison.Ordinal);
        Assert.True(await frame.Locator("img[alt=logo]").EvaluateAsync<bool>("i => i.complete && i.naturalWidth === 1"));
        await BrowserLab.ShotAsync(page, "webmail-html");

        IDownload download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("[data-testid=attachment]"));
        Assert.Equal("informe.bin", download.SuggestedFilename);
        Assert.Equal(attachment, await File.ReadAllBytesAsync((await download.PathAsync())!));
        string href = (await page.GetAttributeAsync("[data-testid=attachment]", "href"))!;
        IAPIResponse file = await page.Context.APIRequest.GetAsync(new Uri(new Uri(Url), href).ToString());
        Assert.Equal("application/octet-stream", file.Headers["content-type"]);
        Assert.StartsWith("attachment;", file.Headers["content-disposition"], StringComparison.Ordinal);

        // Search by subject, then by sender.
        await page.GotoAsync(Url);
        await page.FillAsync("[data-testid=search]", html);
        await page.ClickAsync("[data-testid=search-submit]");
        await page.WaitForURLAsync("**/webmail?q=*");
        Assert.Equal(1, await page.Locator("[data-testid=messages] tbody tr").CountAsync());
        await page.GotoAsync(Url + "?q=ana%40example.org");
        Assert.True(await Row(page, html).CountAsync() == 1);
        Assert.Equal(0, await Row(page, plain).CountAsync());

        // Logging out ends the session on the server: the old cookie, replayed, opens nothing.
        IReadOnlyList<BrowserContextCookiesResult> cookies = await page.Context.CookiesAsync();
        await page.ClickAsync("[data-testid=logout]");
        await page.WaitForURLAsync("**/webmail/login");
        await page.Context.AddCookiesAsync(cookies.Select(c => new Cookie { Name = c.Name, Value = c.Value, Domain = c.Domain, Path = c.Path }));
        await page.GotoAsync(Url);
        Assert.Contains("/webmail/login", page.Url, StringComparison.Ordinal);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task APostWithoutTheAntiForgeryTokenIsRefused()
    {
        IPage page = await LogInAsync();
        await page.GotoAsync(Url + "/compose");
        IAPIResponse response = await page.Context.APIRequest.PostAsync(Url + "/compose", new APIRequestContextOptions
        {
            Multipart = page.Context.APIRequest.CreateFormData().Set("To", lab["ALERT_MAILBOX"]).Set("Subject", "forged").Set("Body", "x"),
            MaxRedirects = 0,
        });
        Assert.Equal(400, response.Status);
        IAPIResponse logout = await page.Context.APIRequest.PostAsync(Url + "/logout", new APIRequestContextOptions { MaxRedirects = 0 });
        Assert.Equal(400, logout.Status);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task RepeatedFailedLoginsAreThrottled()
    {
        IPage page = await lab.NewPageAsync("en-GB");
        // Note: three guesses are free for a name from one client, then each must wait twice as
        // long as the one before (LoginThrottle): one of the next few is refused, however slow the page.
        var statuses = new List<int>();
        for (int i = 0; i < 10 && !statuses.Contains(429); i++)
        {
            await page.GotoAsync(Url + "/login");
            await page.FillAsync("#address", "nadie@suempresa.test");
            await page.FillAsync("#password", "guess-" + i);
            IResponse response = await page.RunAndWaitForResponseAsync(
                () => page.ClickAsync("[data-testid=login-submit]"), r => r.Request.Method == "POST" && r.Url.EndsWith("/webmail/login", StringComparison.Ordinal));
            statuses.Add(response.Status);
        }
        Assert.Equal([401, 401, 401], statuses.Take(3));
        Assert.Equal(429, statuses[^1]);
        Assert.Equal("Too many failed attempts. Try again later.", (await page.TextContentAsync("[data-testid=login-error]"))!.Trim());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task PagesTheListNewestFirst()
    {
        await lab.RunLabAsync("primary-down");
        string tag = TestMessages.Unique("page");
        // Note: the list is in order of arrival in the mailbox (INTERNALDATE, whole seconds), and
        // Postfix delivers a batch in any order: the first and the last arrive alone, a second
        // apart from the rest.
        async Task BatchAsync(int from, int to)
        {
            await using SmtpTestClient smtp = await SmtpTestClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port);
            await smtp.CommandAsync("EHLO browser.example.org");
            for (int i = from; i <= to; i++)
            {
                SmtpReply reply = await smtp.SendAsync("sender@example.org", [Mailbox], WebmailMessages.Plain($"{tag} n{i:00}", "sender@example.org", "x"));
                Assert.True(reply.Code == 250, reply.Text);
            }
            for (int i = from; i <= to; i++)
            {
                await StoredAsync($"{tag} n{i:00}");
            }
            await Task.Delay(1100);
        }
        await BatchAsync(1, 1);
        await BatchAsync(2, 25);
        await BatchAsync(26, 26);

        IPage page = await LogInAsync();
        await page.GotoAsync(Url + "?q=" + Uri.EscapeDataString(tag));
        ILocator subjects = page.Locator("[data-testid=messages] tbody tr [data-testid=open]");
        Assert.Equal(25, await subjects.CountAsync());
        Assert.Equal($"{tag} n26", (await subjects.First.TextContentAsync())!.Trim());

        await page.ClickAsync("[data-testid=older]");
        await page.WaitForURLAsync("**/webmail?p=2*");
        await BrowserLab.ShotAsync(page, "webmail-page-2");
        Assert.True(await subjects.CountAsync() == 1, page.Url);
        Assert.Equal($"{tag} n01", (await subjects.First.TextContentAsync())!.Trim());
        Assert.Equal(1, await page.Locator("[data-testid=newer]").CountAsync());
        Assert.Equal(0, await page.Locator("[data-testid=older]").CountAsync());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task RepliesAndTheReplyArrivesAtTheExternalMailbox()
    {
        await lab.RunLabAsync("primary-down");
        string subject = TestMessages.Unique("ask");
        string external = lab["ALERT_MAILBOX"];
        await SendAsync(external, WebmailMessages.Plain(subject, external, "¿Llegó el pedido?"));
        await StoredAsync(subject);

        IPage page = await LogInAsync();
        await Row(page, subject).Locator("[data-testid=open]").ClickAsync();
        await page.ClickAsync("[data-testid=reply]");
        await page.WaitForURLAsync("**/webmail/compose?mode=reply*");
        Assert.Contains(external, await page.InputValueAsync("[data-testid=compose-to]"), StringComparison.Ordinal);
        Assert.Equal("Re: " + subject, await page.InputValueAsync("[data-testid=compose-subject]"));
        Assert.Equal(Mailbox, (await page.TextContentAsync("[data-testid=compose-from]"))!.Trim());
        await page.FillAsync("[data-testid=compose-body]", "Sí, llegó ayer.\n");
        await page.SetInputFilesAsync("[data-testid=compose-files]", new FilePayload { Name = "nota.txt", MimeType = "text/plain", Buffer = Encoding.UTF8.GetBytes("adjunto de la respuesta\n") });
        await page.ClickAsync("[data-testid=send]");
        await page.WaitForURLAsync("**/webmail?sent=1");
        Assert.Equal(1, await page.Locator("[data-testid=sent]").CountAsync());

        string root = lab["EXTERNAL_MAILDIRS"];
        var clock = Stopwatch.StartNew();
        byte[]? arrived = null;
        while (clock.Elapsed < TimeSpan.FromSeconds(60) && arrived is null)
        {
            arrived = StoredMail.AllFiles(root).Select(File.ReadAllBytes)
                .FirstOrDefault(m => StoredMail.Header(m, "Subject") == "Re: " + subject);
            await Task.Delay(200);
        }
        Assert.NotNull(arrived);
        Assert.Equal(Mailbox, StoredMail.Header(arrived, "From"));
        Assert.Contains(Mailbox, StoredMail.Header(arrived, "Return-Path"), StringComparison.Ordinal);
        Assert.NotNull(StoredMail.Header(arrived, "In-Reply-To"));
        string body = Encoding.UTF8.GetString(arrived);
        Assert.Contains("nota.txt", body, StringComparison.Ordinal);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task RefusesAWrongPassword()
    {
        IPage page = await lab.NewPageAsync("en-GB");
        await page.GotoAsync(Url + "/login");
        await page.FillAsync("#address", Mailbox);
        await page.FillAsync("#password", "not-the-password");
        IResponse response = await page.RunAndWaitForResponseAsync(
            () => page.ClickAsync("[data-testid=login-submit]"), r => r.Request.Method == "POST" && r.Url.EndsWith("/webmail/login", StringComparison.Ordinal));
        Assert.Equal(401, response.Status);
        Assert.Equal("Wrong address or password.", (await page.TextContentAsync("[data-testid=login-error]"))!.Trim());
        IResponse? list = await page.GotoAsync(Url);
        Assert.EndsWith("/webmail/login?ReturnUrl=%2Fwebmail", page.Url, StringComparison.Ordinal);
        Assert.Equal(200, list!.Status);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task AnotherMailboxsMessageCannotBeOpenedByItsId()
    {
        await lab.RunLabAsync("primary-down");
        string subject = TestMessages.Unique("private");
        byte[] attachment = Encoding.ASCII.GetBytes("secret bytes");
        await SendAsync("ana@example.org", WebmailMessages.HtmlWithAttachment(subject, "<p id=secret>secreto</p>", "secret.txt", attachment));
        await StoredAsync(subject);
        IPage mine = await LogInAsync();
        string href = (await Row(mine, subject).Locator("[data-testid=open]").GetAttributeAsync("href"))!;
        await mine.Context.CloseAsync();

        IPage other = await LogInAsync(lab["WEBMAIL_OTHER_USER"]);
        Assert.Equal(lab["WEBMAIL_OTHER_USER"], (await other.TextContentAsync("[data-testid=mailbox]"))!.Trim());
        foreach (string path in new[] { href, href + "?headers=1" })
        {
            IResponse? response = await other.GotoAsync(new Uri(new Uri(Url), path).ToString());
            Assert.Equal(404, response!.Status);
            Assert.DoesNotContain(subject, await other.ContentAsync(), StringComparison.Ordinal);
            Assert.Equal(1, await other.Locator("[data-testid=not-found]").CountAsync());
        }
        foreach (string path in new[] { href + "/body", href + "/part/0", href + "/part/1" })
        {
            // Note: the frame's document and the downloads, asked for directly with the other mailbox's cookie.
            IAPIResponse response = await other.Context.APIRequest.GetAsync(new Uri(new Uri(Url), path).ToString());
            Assert.Equal(404, response.Status);
            string text = await response.TextAsync();
            Assert.DoesNotContain("secreto", text, StringComparison.Ordinal);
            Assert.DoesNotContain("secret bytes", text, StringComparison.Ordinal);
        }
        await BrowserLab.ShotAsync(other, "webmail-other-mailbox");
        await other.Context.CloseAsync();

        // Without a login, nothing at all.
        IPage anonymous = await lab.NewPageAsync();
        IAPIResponse direct = await anonymous.Context.APIRequest.GetAsync(new Uri(new Uri(Url), href + "/part/0").ToString(), new APIRequestContextOptions { MaxRedirects = 0 });
        Assert.Equal(302, direct.Status);
        await anonymous.Context.CloseAsync();
    }

    [Fact]
    public async Task HostileHtmlNeitherRunsNorLoadsAnythingAndTheServerStandsUp()
    {
        await lab.RunLabAsync("primary-down");
        string tag = TestMessages.Unique("attack");
        List<(string Name, byte[] Message)> corpus = WebmailMessages.Hostile(tag).ToList();
        foreach ((string _, byte[] message) in corpus)
        {
            await SendAsync("evil@example.org", message);
        }
        foreach ((string name, byte[] _) in corpus)
        {
            await StoredAsync($"{tag} {name}");
        }

        IPage page = await LogInAsync();
        var ran = new List<string>();
        var outside = new List<string>();
        page.Dialog += (_, d) => { ran.Add("dialog: " + d.Message); _ = d.DismissAsync(); };
        page.Console += (_, m) => { if (m.Text.Contains("PWNED", StringComparison.Ordinal)) { ran.Add("console: " + m.Text); } };
        await page.Context.RouteAsync("**/*", async route =>
        {
            var url = new Uri(route.Request.Url);
            if (url.Scheme is "http" or "https" && url.Host != "127.0.0.1")
            {
                outside.Add(route.Request.Url);
                await route.AbortAsync();
                return;
            }
            await route.ContinueAsync();
        });
        page.Request += (_, r) =>
        {
            if (Uri.TryCreate(r.Url, UriKind.Absolute, out Uri? u) && u.Scheme is "http" or "https" && u.Host != "127.0.0.1")
            {
                outside.Add(r.Url);
            }
        };

        await page.GotoAsync(Url + "?q=" + Uri.EscapeDataString(tag));
        string[] hrefs = (await page.Locator("[data-testid=messages] tbody tr [data-testid=open]").EvaluateAllAsync<string[]>("as => as.map(a => a.getAttribute('href'))"));
        Assert.Equal(corpus.Count, hrefs.Length);
        foreach (string href in hrefs)
        {
            IResponse? response = await page.GotoAsync(new Uri(new Uri(Url), href).ToString(), new PageGotoOptions { WaitUntil = WaitUntilState.Load });
            Assert.Equal(200, response!.Status);
            if (await page.Locator("[data-testid=html-body]").CountAsync() > 0)
            {
                // The frame did load (each hostile message has some harmless text in it).
                Assert.False(string.IsNullOrWhiteSpace(await page.FrameLocator("[data-testid=html-body]").Locator("body").TextContentAsync()), href);
                // Hover and click what a user would touch; nothing may run.
                ILocator body = page.FrameLocator("[data-testid=html-body]").Locator("body");
                await body.HoverAsync(new LocatorHoverOptions { Timeout = 5_000 });
                await body.ClickAsync(new LocatorClickOptions { Position = new Position { X = 5, Y = 5 }, Timeout = 5_000 });
            }
            await page.GotoAsync(new Uri(new Uri(Url), href + "?headers=1").ToString());
            await Task.Delay(300);
        }
        await page.GotoAsync(Url + "?q=" + Uri.EscapeDataString(tag + " remote-images"));
        await page.Locator("[data-testid=open]").ClickAsync();
        Assert.Equal(1, await page.Locator("[data-testid=images-blocked]").CountAsync());
        await BrowserLab.ShotAsync(page, "webmail-hostile");
        await Task.Delay(500);

        Assert.Empty(ran);
        Assert.Empty(outside);
        IAPIResponse health = await page.Context.APIRequest.GetAsync(lab["WEB_URL"] + "/healthz");
        Assert.Equal(200, health.Status);
        IResponse? list = await page.GotoAsync(Url);
        Assert.Equal(200, list!.Status);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task AfterTheHandOverTheWebmailIsEmptyAndThePrimaryHasEveryMessageUnaltered()
    {
        await lab.RunLabAsync("primary-down");
        string read = TestMessages.Unique("read");
        string unread = TestMessages.Unique("unread");
        await SendAsync("sender@example.org", WebmailMessages.Plain(read, "sender@example.org", "Ñandú leído\n.\n..línea con punto"));
        await SendAsync("sender@example.org", WebmailMessages.Plain(unread, "sender@example.org", "Ñandú sin leer\n.\n..línea con punto"));
        byte[] readBefore = await File.ReadAllBytesAsync(await StoredAsync(read));
        byte[] unreadBefore = await File.ReadAllBytesAsync(await StoredAsync(unread));

        IPage page = await LogInAsync();
        await Row(page, read).Locator("[data-testid=open]").ClickAsync();
        await page.WaitForURLAsync(new Regex("/webmail/m/\\d+/\\d+$"));
        // Reading set \Seen: Dovecot renamed the file into cur/ with the S flag; the bytes are the same.
        string readFile = await StoredAsync(read);
        Assert.Matches(":2,[A-Z]*S", Path.GetFileName(readFile));
        Assert.Equal("cur", Path.GetFileName(Path.GetDirectoryName(readFile)));
        Assert.Equal(readBefore, await File.ReadAllBytesAsync(readFile));

        await lab.RunLabAsync("primary-up");
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(90) && lab.BackupMessages(Mailbox).Any())
        {
            await Task.Delay(250);
        }
        Assert.Empty(lab.BackupMessages(Mailbox));

        await page.GotoAsync(Url);
        Assert.Equal(1, await page.Locator("[data-testid=empty]").CountAsync());
        Assert.Contains("sender@example.org", await page.TextContentAsync("[data-testid=handed-over]"), StringComparison.Ordinal);
        Assert.Contains("back", await page.GetAttributeAsync("[data-testid=banner]", "class"), StringComparison.Ordinal);
        await BrowserLab.ShotAsync(page, "webmail-after-handover");
        await page.Context.CloseAsync();

        foreach ((string subject, byte[] backup) in new[] { (read, readBefore), (unread, unreadBefore) })
        {
            byte[] primary = StoredMail.AllFiles(lab["PRIMARY_MAILDIRS"]).Select(File.ReadAllBytes)
                .Single(m => StoredMail.Header(m, "Subject") == subject);
            Assert.Equal(Encoding.Latin1.GetString(Without(backup, "Return-Path:", "Delivered-To:", "Received:")),
                Encoding.Latin1.GetString(Without(primary, "Return-Path:", "X-Original-To:", "Delivered-To:", "Received:")));
        }
    }

    /// <summary>The message without its top headers named, in this order: each side's own delivery trace.</summary>
    private static byte[] Without(byte[] message, params string[] names)
    {
        int offset = 0;
        foreach (string name in names)
        {
            Assert.True(message.AsSpan(offset).StartsWith(Encoding.ASCII.GetBytes(name)), $"expected {name} at {offset}");
            do
            {
                offset = Array.IndexOf(message, (byte)'\n', offset) + 1;
            }
            while (message[offset] is (byte)' ' or (byte)'\t');
        }
        return message[offset..];
    }
}
