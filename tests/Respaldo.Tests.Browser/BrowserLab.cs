using Microsoft.Playwright;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests;

/// <summary>
/// A private lab plus one headless Chromium: Debian's /usr/bin/chromium driven by Playwright
/// (nothing is downloaded; the flags keep it from reaching any network but the loopback).
/// Screenshots go to test-results/screenshots/ at the repository root, kept as artefacts.
/// Designed for inheritance: a variant passes its own name and lab environment.
/// </summary>
public class BrowserLab : LabFixture
{
    public const string Chromium = "/usr/bin/chromium";

    private static readonly string[] Flags =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
    ];

    public BrowserLab()
        : this("browser", new Dictionary<string, string>())
    {
    }

    protected BrowserLab(string name, IReadOnlyDictionary<string, string> environment)
        : base(name, environment, configured: true)
    {
    }

    /// <summary>
    /// The webmail's send limit, low enough for a test to reach. Only
    /// <c>WebmailLimitsTests</c> sends from <c>WEBMAIL_OTHER_USER</c>; the other tests send
    /// one or two messages from <c>WEBMAIL_USER</c>, each mailbox with its own count.
    /// </summary>
    public const int SendLimitPerHour = 3;

    protected override void Configure(System.Text.Json.Nodes.JsonObject config)
    {
        config["webmail"] = new System.Text.Json.Nodes.JsonObject { ["sendLimitPerHour"] = SendLimitPerHour };
    }

    public IPlaywright Playwright { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public static string Screenshots { get; } = Path.Combine(RepoPaths.Root, "test-results", "screenshots");

    public override async Task InitializeAsync()
    {
        if (!File.Exists(Chromium))
        {
            throw new InvalidOperationException($"{Chromium} is missing: run 'deploy/install-deps test' (Debian's chromium package)");
        }
        System.IO.Directory.CreateDirectory(Screenshots);
        await base.InitializeAsync();
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = Chromium, Headless = true, Args = Flags });
    }

    public override async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }
        Playwright?.Dispose();
        await base.DisposeAsync();
    }

    /// <summary>A fresh browser context (its own cookies), in the given language.</summary>
    public async Task<IPage> NewPageAsync(string language = "es-ES")
    {
        IBrowserContext context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            Locale = language,
            ExtraHTTPHeaders = new Dictionary<string, string> { ["Accept-Language"] = language },
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
        });
        IPage page = await context.NewPageAsync();
        // Note: a page that fetches over IMAP on a loaded 2-core machine has taken over 30 s.
        page.SetDefaultTimeout(60_000);
        return page;
    }

    public async Task LogInAsync(IPage page, string? user = null)
    {
        await page.GotoAsync(this["DASHBOARD_URL"] + "/login");
        await page.FillAsync("#user", user ?? this["DASHBOARD_USER"]);
        await page.FillAsync("#password", this["DASHBOARD_PASSWORD"]);
        await page.ClickAsync("[data-testid=login-submit]");
        try
        {
            // Note: the first login after the daemon starts also compiles and JITs the pages on a
            // busy 2-core machine; a minute is patience, not a performance claim. The overview's
            // document is what is awaited (DOMContentLoaded), not every subresource's "load": once
            // a full tier run left a page whose HTML had arrived whole without "load" firing in a
            // minute, while another lab's rspamd compiled its rules on both cores.
            await page.WaitForURLAsync($"**/t/{this["DASHBOARD_TENANT"]}", new PageWaitForURLOptions { Timeout = 60_000, WaitUntil = WaitUntilState.DOMContentLoaded });
        }
        catch (TimeoutException e)
        {
            string body = await page.ContentAsync();
            throw new TimeoutException($"login did not reach the overview; the page is {page.Url}: {body[..Math.Min(body.Length, 2000)]}", e);
        }
    }

    public static Task ShotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserLab>
{
    public const string Name = "browser lab";
}
