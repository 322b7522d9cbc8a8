using System.Net;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Continuity;

/// <summary>
/// The dashboard's set-up page: a tenant's user sees its own report only, "Check now" needs the
/// page's anti-forgery token, runs the check and comes back to a page listing every check.
/// </summary>
[Collection(ContinuityLabCollection.Name)]
public sealed class SetupPageTests(ContinuityLabFixture lab)
{
    [Fact]
    public async Task ATenantsUserChecksNowAndSeesItsOwnChecksOnly()
    {
        await lab.RunLabAsync("primary-up");
        using var client = new DashboardClient(lab["DASHBOARD_URL"]);
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync("/t/suempresa/setup")).Status);
        Assert.Equal(HttpStatusCode.Redirect, await client.LoginAsync("suempresa", lab["DASHBOARD_PASSWORD"]));

        (HttpStatusCode status, string html, _) = await client.GetAsync("/t/suempresa/setup");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("data-testid=\"setup-check-now\"", html, StringComparison.Ordinal);
        Assert.Contains("href=\"/t/suempresa/setup\"", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/t/invertido/setup")).Status);

        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/t/suempresa/setup", [])).Status);
        (HttpStatusCode posted, _, HttpResponseMessage response) = await client.PostWithTokenAsync("/t/suempresa/setup", "/t/suempresa/setup", []);
        Assert.Equal(HttpStatusCode.Redirect, posted);
        Assert.Equal("/t/suempresa/setup", response.Headers.Location?.OriginalString);

        (_, string after, _) = await client.GetAsync("/t/suempresa/setup");
        Assert.Contains("data-testid=\"setup-checks\"", after, StringComparison.Ordinal);
        foreach (string check in new[] { "mx-present", "mx-backup", "mx-primary-lowest", "mx-target-address", "backup-address", "backup-reverse-dns", "backup-certificate", "backup-tlsa", "mta-sts", "mta-sts-certificate",
            "primary-reachable", "primary-recipient", "primary-size", "primary-accepts-backup", "storage-allocation", "alert-addresses", "recipients-known" })
        {
            Assert.Contains($"data-check=\"{check}\" data-status=\"ok\"", after, StringComparison.Ordinal);
        }
        Assert.DoesNotContain("data-status=\"failing\"", after, StringComparison.Ordinal);
        Assert.DoesNotContain("invertido", after, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheProvidersStartPageSummarisesEachTenantsLastCheck()
    {
        await lab.RunLabAsync("primary-up");
        Assert.Equal(0, (await lab.LabCtlAsync("doctor", "suempresa")).ExitCode);
        Assert.Equal(8, (await lab.LabCtlAsync("doctor", "invertido")).ExitCode);
        using var admin = new DashboardClient(lab["DASHBOARD_URL"]);
        Assert.Equal(HttpStatusCode.Redirect, await admin.LoginAsync(lab["DASHBOARD_ADMIN_USER"], lab["DASHBOARD_ADMIN_PASSWORD"]));
        (HttpStatusCode status, string html, _) = await admin.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, status);
        string Cell(string tenant) => System.Text.RegularExpressions.Regex.Match(html, $"<td data-testid=\"setup-summary\" data-tenant=\"{tenant}\">(.*?)</td>").Groups[1].Value;
        Assert.Equal("<a href=\"/t/suempresa/setup\" class=\"ok\">bien</a>", Cell("suempresa"));
        Assert.Equal("<a href=\"/t/invertido/setup\" class=\"bad\">2 fallos</a>", Cell("invertido"));
    }

    [Fact]
    public async Task TheSetUpPageShowsTheMtaStsFaultWithTheLineToAdd()
    {
        await lab.RunLabAsync("primary-up");
        Assert.Equal(8, (await lab.LabCtlAsync("doctor", "sinsts")).ExitCode);
        using var admin = new DashboardClient(lab["DASHBOARD_URL"]);
        Assert.Equal(HttpStatusCode.Redirect, await admin.LoginAsync(lab["DASHBOARD_ADMIN_USER"], lab["DASHBOARD_ADMIN_PASSWORD"]));
        (HttpStatusCode status, string html, _) = await admin.GetAsync("/t/sinsts/setup");
        Assert.Equal(HttpStatusCode.OK, status);
        string row = System.Text.RegularExpressions.Regex.Match(html, "<tr data-check=\"mta-sts\" data-status=\"failing\">(.*?)</tr>", System.Text.RegularExpressions.RegexOptions.Singleline).Groups[1].Value;
        Assert.Contains("sinsts.test", row, StringComparison.Ordinal);
        Assert.Contains($"add the line &quot;mx: {ContinuityLabFixture.Backup}&quot; to https://mta-sts.sinsts.test/.well-known/mta-sts.txt", row, StringComparison.Ordinal);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(html, "data-status=\"failing\""));
    }
}
