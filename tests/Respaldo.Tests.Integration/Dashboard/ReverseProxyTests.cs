using System.Net;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Dashboard;

/// <summary>
/// The daemon behind a reverse proxy, over real HTTP: the lab trusts 127.0.0.1 as a proxy
/// (web.trustedProxies), so its X-Forwarded-For and X-Forwarded-Proto are believed; a client
/// connecting from 127.0.0.2 is not a proxy, and what it writes in those headers is ignored.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class ReverseProxyTests(LabFixture lab)
{
    private static readonly IPAddress Proxy = IPAddress.Loopback;
    private static readonly IPAddress Untrusted = IPAddress.Parse("127.0.0.2");

    private DashboardClient Client(IPAddress from, params (string Name, string Value)[] headers) =>
        new(lab["DASHBOARD_URL"], from, headers.ToDictionary(h => h.Name, h => h.Value));

    [Fact]
    public async Task MetricsFromARemoteClientThroughTheProxyAreRefusedAndFromLoopbackAllowed()
    {
        using DashboardClient local = Client(Proxy);
        Assert.Equal(HttpStatusCode.OK, (await local.GetAsync("/metrics")).Status);
        using DashboardClient remote = Client(Proxy, ("X-Forwarded-For", "203.0.113.9"));
        Assert.Equal(HttpStatusCode.Forbidden, (await remote.GetAsync("/metrics")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await remote.GetAsync("/METRICS/")).Status);
        Assert.Equal(HttpStatusCode.OK, (await remote.GetAsync("/metrics", bearer: lab["API_TOKEN_ADMIN"])).Status);
        // A remote client that writes a loopback address itself: the proxy appends the real one,
        // and the chain is believed only as far as trusted proxies go.
        using DashboardClient spoofing = Client(Proxy, ("X-Forwarded-For", "127.0.0.1, 203.0.113.9"));
        Assert.Equal(HttpStatusCode.Forbidden, (await spoofing.GetAsync("/metrics")).Status);
    }

    [Fact]
    public async Task AnUntrustedClientsForwardedHeadersAreIgnored()
    {
        // 127.0.0.2 is loopback itself: had its X-Forwarded-For been believed, /metrics would refuse it.
        using DashboardClient untrusted = Client(Untrusted, ("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-Proto", "https"));
        (HttpStatusCode status, _, _) = await untrusted.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, status);
        (_, _, HttpResponseMessage login) = await untrusted.GetAsync("/login");
        Assert.False(login.Headers.Contains("Strict-Transport-Security"));
        Assert.DoesNotContain(login.Headers.GetValues("Set-Cookie"), c => c.Contains("secure", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task HstsAndSecureCookiesWhenTheTrustedProxySaysHttps()
    {
        using DashboardClient https = Client(Proxy, ("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-Proto", "https"));
        (HttpStatusCode status, _, HttpResponseMessage login) = await https.GetAsync("/login");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("max-age=31536000", Assert.Single(login.Headers.GetValues("Strict-Transport-Security")));
        string csrf = Assert.Single(login.Headers.GetValues("Set-Cookie"), c => c.StartsWith("respaldo-csrf=", StringComparison.Ordinal));
        Assert.Contains("secure", csrf, StringComparison.OrdinalIgnoreCase);

        // Plain HTTP from the proxy: neither.
        using DashboardClient http = Client(Proxy, ("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-Proto", "http"));
        (_, _, HttpResponseMessage plain) = await http.GetAsync("/login");
        Assert.False(plain.Headers.Contains("Strict-Transport-Security"));
        Assert.DoesNotContain(plain.Headers.GetValues("Set-Cookie"), c => c.Contains("secure", StringComparison.OrdinalIgnoreCase));
    }
}
