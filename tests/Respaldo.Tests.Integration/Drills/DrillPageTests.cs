using System.Net;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Drills;

/// <summary>
/// The Set-up page's fire drills: "Run a drill" needs the page's anti-forgery token, starts a
/// drill and comes back at once; the page then lists it with its outcome and timings.
/// </summary>
[Collection(DrillLabCollection.Name)]
public sealed class DrillPageTests(DrillLabFixture lab)
{
    [Fact]
    public async Task RunADrillNeedsTheTokenAndThePageListsTheDrillWithItsTimings()
    {
        await lab.RunLabAsync("primary-up");
        using var client = new DashboardClient(lab["DASHBOARD_URL"]);
        Assert.Equal(HttpStatusCode.Redirect, await client.LoginAsync("suempresa", lab["DASHBOARD_PASSWORD"]));
        (HttpStatusCode status, string html, _) = await client.GetAsync("/t/suempresa/setup");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("data-testid=\"drill-now\"", html, StringComparison.Ordinal);
        Assert.Contains("Hacer un simulacro", html, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/t/suempresa/setup?handler=Drill", [])).Status);
        (HttpStatusCode posted, _, HttpResponseMessage response) = await client.PostWithTokenAsync("/t/suempresa/setup", "/t/suempresa/setup?handler=Drill", []);
        Assert.Equal(HttpStatusCode.Redirect, posted);
        Assert.Equal("/t/suempresa/setup", response.Headers.Location?.OriginalString);

        string after = await Eventually.WaitAsync(async () => (await client.GetAsync("/t/suempresa/setup")).Body,
            page => page.Contains("data-outcome=\"passed\"", StringComparison.Ordinal) && !page.Contains("data-testid=\"drill-running\"", StringComparison.Ordinal),
            TimeSpan.FromSeconds(120), "a passed drill on the Set-up page");
        Assert.Contains("data-testid=\"drills\"", after, StringComparison.Ordinal);
        Assert.Contains("superado", after, StringComparison.Ordinal);
    }
}
