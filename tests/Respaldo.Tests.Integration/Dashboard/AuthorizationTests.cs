using System.Net;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Dashboard;

/// <summary>
/// The dashboard's doors, over real HTTP against the lab's daemon: nothing without a login, a
/// tenant's user sees only its tenant (URL tampering included), every POST needs its
/// anti-forgery token, tokens are scoped, failed logins are rate-limited.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class AuthorizationTests(LabFixture lab)
{
    private DashboardClient Client() => new(lab["DASHBOARD_URL"]);

    private string Tenant => lab["DASHBOARD_TENANT"];

    private string[] Pages => [$"/t/{Tenant}", $"/t/{Tenant}/mailboxes", $"/t/{Tenant}/attempts", $"/t/{Tenant}/handovers", $"/t/{Tenant}/handover", $"/t/{Tenant}/setup"];

    private string[] Apis => ["/api/v1/tenants", $"/api/v1/tenants/{Tenant}/status", $"/api/v1/tenants/{Tenant}/mailboxes", $"/api/v1/tenants/{Tenant}/probes",
        $"/api/v1/tenants/{Tenant}/handovers", $"/api/v1/tenants/{Tenant}/held", $"/api/v1/tenants/{Tenant}/alerts", $"/api/v1/tenants/{Tenant}/progress"];

    [Fact]
    public async Task NoPageAndNoApiWithoutALogin()
    {
        using DashboardClient anonymous = Client();
        foreach (string page in Pages.Prepend("/"))
        {
            (HttpStatusCode status, _, HttpResponseMessage response) = await anonymous.GetAsync(page);
            Assert.True(status == HttpStatusCode.Redirect, $"{page}: {status}");
            Assert.StartsWith("/login", response.Headers.Location!.OriginalString.Replace(lab["DASHBOARD_URL"], "", StringComparison.Ordinal), StringComparison.Ordinal);
        }
        foreach (string api in Apis)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(api)).Status);
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(api, bearer: "not-a-token")).Status);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync($"/api/v1/tenants/{Tenant}/handover-now", [])).Status);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).Status);
    }

    [Fact]
    public async Task ATenantsUserSeesOnlyItsOwnTenantEvenByEditingTheUrl()
    {
        using DashboardClient other = Client();
        Assert.Equal(HttpStatusCode.Redirect, await other.LoginAsync(lab["DASHBOARD_OTHER_USER"], lab["DASHBOARD_PASSWORD"]));
        (HttpStatusCode home, _, HttpResponseMessage homeResponse) = await other.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, home);
        Assert.Equal($"/t/{lab["DASHBOARD_OTHER_TENANT"]}", homeResponse.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync($"/t/{lab["DASHBOARD_OTHER_TENANT"]}")).Status);

        foreach (string page in Pages.Append($"/t/{Tenant}/handovers?q=info"))
        {
            Assert.True((await other.GetAsync(page)).Status == HttpStatusCode.NotFound, page);
        }
        foreach (string api in Apis.Skip(1))
        {
            Assert.True((await other.GetAsync(api)).Status == HttpStatusCode.NotFound, api);
        }
        string tenants = (await other.GetAsync("/api/v1/tenants")).Body;
        Assert.Contains($"\"{lab["DASHBOARD_OTHER_TENANT"]}\"", tenants, StringComparison.Ordinal);
        Assert.DoesNotContain($"\"{Tenant}\"", tenants, StringComparison.Ordinal);

        // A state change aimed at the other tenant, with a valid token of this session: still 404.
        (HttpStatusCode post, _, _) = await other.PostWithTokenAsync($"/t/{lab["DASHBOARD_OTHER_TENANT"]}", $"/t/{Tenant}/handover", []);
        Assert.Equal(HttpStatusCode.NotFound, post);
        (HttpStatusCode retry, _, _) = await other.PostWithTokenAsync($"/t/{lab["DASHBOARD_OTHER_TENANT"]}", $"/t/{Tenant}/handovers?handler=Retry", [new("id", "1")]);
        Assert.Equal(HttpStatusCode.NotFound, retry);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync("/t/no-such-tenant")).Status);
    }

    [Fact]
    public async Task ApiTokensAreScopedAndCannotBeReplacedByASessionForChanges()
    {
        using DashboardClient client = Client();
        string tenantToken = lab["API_TOKEN"];
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/v1/tenants/{Tenant}/status", tenantToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/tenants/{lab["DASHBOARD_OTHER_TENANT"]}/status", tenantToken)).Status);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/v1/tenants/{lab["DASHBOARD_OTHER_TENANT"]}/status", lab["API_TOKEN_ADMIN"])).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/api/v1/tenants/{Tenant}/handover-now", [], tenantToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync($"/api/v1/tenants/{lab["DASHBOARD_OTHER_TENANT"]}/handover-now", [], tenantToken)).Status);

        // A browser session may read the API (live updates) but never change anything through it.
        Assert.Equal(HttpStatusCode.Redirect, await client.LoginAsync(lab["DASHBOARD_USER"], lab["DASHBOARD_PASSWORD"]));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/v1/tenants/{Tenant}/status")).Status);
        HttpStatusCode sessionPost = (await client.PostAsync($"/api/v1/tenants/{Tenant}/handover-now", [])).Status;
        Assert.True(sessionPost is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, $"a session POST to the API got {sessionPost}");
    }

    [Fact]
    public async Task EveryPostWithoutItsAntiForgeryTokenIsRefused()
    {
        using DashboardClient anonymous = Client();
        Assert.Equal(HttpStatusCode.BadRequest, (await anonymous.PostAsync("/login", [new("user", lab["DASHBOARD_USER"]), new("password", lab["DASHBOARD_PASSWORD"])])).Status);

        using DashboardClient client = Client();
        Assert.Equal(HttpStatusCode.Redirect, await client.LoginAsync(lab["DASHBOARD_USER"], lab["DASHBOARD_PASSWORD"]));
        var targets = new HashSet<string>(StringComparer.Ordinal) { "/login", "/logout", "/lang", $"/t/{Tenant}/handover",
            $"/t/{Tenant}/handovers?handler=Retry", $"/t/{Tenant}/handovers?handler=Bounce" };
        foreach (string page in Pages.Prepend("/login"))
        {
            (_, string html, _) = await client.GetAsync(page);
            foreach (string target in DashboardClient.PostTargets(html, page))
            {
                targets.Add(target);
            }
        }
        Assert.True(targets.Count >= 6, string.Join(", ", targets));
        foreach (string target in targets)
        {
            (HttpStatusCode status, _, _) = await client.PostAsync(target, [new("id", "1"), new("lang", "en")]);
            Assert.True(status == HttpStatusCode.BadRequest, $"POST {target} without a token: {status}");
            (HttpStatusCode forged, _, _) = await client.PostAsync(target, [new("id", "1"), new("__csrf", "CfDJ8forged")]);
            Assert.True(forged == HttpStatusCode.BadRequest, $"POST {target} with a forged token: {forged}");
        }
        // The same POST with the page's token goes through: the refusal was the missing token.
        Assert.Equal(HttpStatusCode.Redirect, (await client.PostWithTokenAsync($"/t/{Tenant}", "/lang", [new("lang", "en"), new("returnUrl", "/")])).Status);
        Assert.Equal(HttpStatusCode.Redirect, (await client.PostWithTokenAsync($"/t/{Tenant}", "/logout", [])).Status);
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync($"/t/{Tenant}")).Status);
    }

    [Fact]
    public async Task FailedLoginsAreSlowedPerUserAndClient()
    {
        // Note: the provider admin is used by no other test here, so slowing it down harms none.
        using DashboardClient client = Client();
        string admin = lab["DASHBOARD_ADMIN_USER"];
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await client.LoginAsync(admin, $"wrong-{i}"));
        }
        // The next guess from this client must wait (Retry-After), even with the right password.
        (HttpStatusCode status, _, HttpResponseMessage response) = await client.PostWithTokenAsync("/login", "/login",
            [new("user", admin), new("password", lab["DASHBOARD_ADMIN_PASSWORD"]), new("returnUrl", "/")]);
        Assert.Equal((HttpStatusCode)429, status);
        Assert.NotNull(response.Headers.RetryAfter);
        // Another user from the same address is not slowed by that.
        using DashboardClient other = Client();
        Assert.Equal(HttpStatusCode.Redirect, await other.LoginAsync(lab["DASHBOARD_USER"], lab["DASHBOARD_PASSWORD"]));
    }

    [Fact]
    public async Task ALockOutAttackFromOneAddressDoesNotStopTheUserLoggingInFromAnother()
    {
        // The attacker (127.0.0.2, not a trusted proxy) fails for a known name until it is refused.
        string user = lab["DASHBOARD_OTHER_USER"];
        using DashboardClient attacker = new(lab["DASHBOARD_URL"], IPAddress.Parse("127.0.0.2"));
        var statuses = new List<HttpStatusCode>();
        for (int i = 0; i < 12 && !statuses.Contains((HttpStatusCode)429); i++)
        {
            statuses.Add(await attacker.LoginAsync(user, $"guess-{i}"));
        }
        Assert.Equal((HttpStatusCode)429, statuses[^1]);
        Assert.True(statuses.Count >= 4, string.Join(", ", statuses));
        // The real user, from their own address (127.0.0.1), logs in at once, and so does a client
        // behind the trusted proxy (127.0.0.1 says X-Forwarded-For: 198.51.100.7).
        using DashboardClient real = new(lab["DASHBOARD_URL"], IPAddress.Loopback);
        Assert.Equal(HttpStatusCode.Redirect, await real.LoginAsync(user, lab["DASHBOARD_PASSWORD"]));
        using DashboardClient proxied = new(lab["DASHBOARD_URL"], IPAddress.Loopback, new Dictionary<string, string> { ["X-Forwarded-For"] = "198.51.100.7" });
        Assert.Equal(HttpStatusCode.Redirect, await proxied.LoginAsync(user, lab["DASHBOARD_PASSWORD"]));
    }
}
