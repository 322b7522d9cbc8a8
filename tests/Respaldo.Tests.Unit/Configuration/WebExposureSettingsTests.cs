using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Respaldo.Configuration;

namespace Respaldo.Tests.Configuration;

/// <summary>
/// web.listen beyond the loopback, web.trustedProxies and web.allowPlainHttp: logins never go out
/// in plain HTTP by accident, and only the configured proxies are believed.
/// </summary>
public sealed class WebExposureSettingsTests
{
    private static (RespaldoSettings? Settings, IReadOnlyList<ConfigurationError> Errors) Parse(JsonObject web)
    {
        JsonObject json = SampleConfiguration.Create();
        json["web"] = web;
        return ConfigurationLoader.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()), "/etc/respaldo/respaldo.json");
    }

    [Theory]
    [InlineData("*:8080")]
    [InlineData("192.0.2.10:8080")]
    [InlineData("[2001:db8::1]:8080")]
    [InlineData("backup.example.com:8080")]
    public void APublicPlainHttpListenIsRefused(string listen)
    {
        (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) = Parse(new JsonObject { ["listen"] = new JsonArray("127.0.0.1:8080", listen) });
        Assert.Null(settings);
        ConfigurationError e = Assert.Single(errors);
        Assert.Equal("web.listen[1]", e.Path);
        Assert.Contains("plain HTTP", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1:8080")]
    [InlineData("127.0.0.2:8080")]
    [InlineData("[::1]:8080")]
    [InlineData("localhost:8080")]
    public void ALoopbackListenNeedsNoCertificate(string listen) =>
        Assert.Empty(Parse(new JsonObject { ["listen"] = new JsonArray(listen) }).Errors);

    [Fact]
    public void APublicListenIsAcceptedWithACertificateATrustedProxyOrExplicitPlainHttp()
    {
        Assert.Empty(Parse(new JsonObject { ["listen"] = new JsonArray("*:8443"), ["certificateFile"] = "/etc/respaldo/web.crt", ["keyFile"] = "/etc/respaldo/web.key" }).Errors);
        Assert.Empty(Parse(new JsonObject { ["listen"] = new JsonArray("*:8080"), ["trustedProxies"] = new JsonArray("192.0.2.1") }).Errors);
        RespaldoSettings plain = Parse(new JsonObject { ["listen"] = new JsonArray("*:8080"), ["allowPlainHttp"] = true }).Settings!;
        Assert.True(plain.Web.AllowPlainHttp);
    }

    [Fact]
    public void TrustedProxiesAreAddressesAndNetworks()
    {
        RespaldoSettings s = Parse(new JsonObject { ["trustedProxies"] = new JsonArray("192.0.2.1", "10.1.0.0/16", "::1", "2001:db8::/32") }).Settings!;
        Assert.Equal(
            [IPNetwork.Parse("192.0.2.1/32"), IPNetwork.Parse("10.1.0.0/16"), IPNetwork.Parse("::1/128"), IPNetwork.Parse("2001:db8::/32")],
            s.Web.TrustedProxies);
        Assert.Empty(Parse(new JsonObject()).Settings!.Web.TrustedProxies);
        Assert.False(Parse(new JsonObject()).Settings!.Web.AllowPlainHttp);
    }

    [Theory]
    [InlineData("proxy.example.com")]
    [InlineData("10")]
    [InlineData("192.0.2.1/24")]
    [InlineData("192.0.2.0/33")]
    [InlineData("fe80::1%eth0")]
    [InlineData("")]
    public void AProxyThatIsNotAnAddressOrANetworkIsNamed(string proxy)
    {
        (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) = Parse(new JsonObject { ["trustedProxies"] = new JsonArray("192.0.2.1", proxy) });
        Assert.Null(settings);
        Assert.Equal("web.trustedProxies[1]", Assert.Single(errors).Path);
    }
}
