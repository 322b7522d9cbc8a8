using System.Text;
using System.Text.Json.Nodes;
using Respaldo.Configuration;

namespace Respaldo.Tests.Configuration;

/// <summary>The settings the dashboard, the API and the alerts add: defaults, and each error named by its field.</summary>
public sealed class DashboardAndAlertSettingsTests
{
    private const string Sha = "2b8af0a77b1148a2748a47600e3acf8f034c6b104d137e7b14be3503acdb2d85";

    private static (RespaldoSettings? Settings, IReadOnlyList<ConfigurationError> Errors) Parse(JsonNode json) =>
        ConfigurationLoader.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()), "/etc/respaldo/respaldo.json");

    private static ConfigurationError SingleError(JsonNode json)
    {
        (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) = Parse(json);
        Assert.Null(settings);
        return Assert.Single(errors);
    }

    [Fact]
    public void DefaultsAreLoopbackSubmissionDnsMxAndAFifteenMinuteDigest()
    {
        RespaldoSettings s = Parse(SampleConfiguration.Create()).Settings!;
        Assert.Equal(new HostPort("127.0.0.1", 587), s.Listen.Submission);
        Assert.Null(s.Postfix.RelayHost);
        Assert.Equal(TimeSpan.FromMinutes(30), s.Web.SessionTimeout);
        Assert.Empty(s.Web.ApiTokens);
        Assert.Equal(TimeSpan.FromMinutes(15), s.Tenants[0].AlertDigestInterval);
    }

    [Fact]
    public void ReadsEveryNewSetting()
    {
        JsonObject json = SampleConfiguration.Create();
        json["listen"] = new JsonObject { ["submission"] = "127.0.0.1:10587" };
        json["postfix"] = new JsonObject { ["relayHost"] = "[smarthost.example.net]:2525" };
        json["web"] = new JsonObject { ["sessionMinutes"] = 5, ["apiTokens"] = new JsonArray(new JsonObject { ["name"] = "prometheus", ["sha256"] = Sha.ToUpperInvariant() }) };
        json["tenants"]![0]!["alerts"]!["digestIntervalSeconds"] = 60;
        json["tenants"]![0]!["apiTokens"] = new JsonArray(new JsonObject { ["name"] = "nagios", ["sha256"] = Sha });
        RespaldoSettings s = Parse(json).Settings!;
        Assert.Equal(new HostPort("127.0.0.1", 10587), s.Listen.Submission);
        Assert.Equal("[smarthost.example.net]:2525", s.Postfix.RelayHost);
        Assert.Equal(TimeSpan.FromMinutes(5), s.Web.SessionTimeout);
        Assert.Equal(new ApiToken("prometheus", Sha), Assert.Single(s.Web.ApiTokens));
        Assert.Equal(TimeSpan.FromSeconds(60), s.Tenants[0].AlertDigestInterval);
        Assert.Equal("nagios", Assert.Single(s.Tenants[0].ApiTokens).Name);
    }

    [Fact]
    public void SubmissionIsNeverExposed()
    {
        JsonObject json = SampleConfiguration.Create();
        json["listen"] = new JsonObject { ["submission"] = "192.0.2.10:587" };
        ConfigurationError e = SingleError(json);
        Assert.Equal("listen.submission", e.Path);
        Assert.Contains("loopback", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[smarthost.example.net]:99999")]
    [InlineData("*:25")]
    [InlineData("bad host:25")]
    public void ABadRelayHostIsNamed(string relay)
    {
        JsonObject json = SampleConfiguration.Create();
        json["postfix"] = new JsonObject { ["relayHost"] = relay };
        Assert.Equal("postfix.relayHost", SingleError(json).Path);
    }

    [Theory]
    [InlineData("not-hex", "tenants[0].apiTokens[0].sha256")]
    [InlineData("abc", "tenants[0].apiTokens[0].sha256")]
    public void AnApiTokenMustBeAHash(string sha, string path)
    {
        JsonObject json = SampleConfiguration.Create();
        json["tenants"]![0]!["apiTokens"] = new JsonArray(new JsonObject { ["name"] = "x", ["sha256"] = sha });
        ConfigurationError e = SingleError(json);
        Assert.Equal(path, e.Path);
        Assert.DoesNotContain(sha, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100000)]
    public void TheDigestIntervalHasBounds(double seconds)
    {
        JsonObject json = SampleConfiguration.Create();
        json["tenants"]![0]!["alerts"]!["digestIntervalSeconds"] = seconds;
        Assert.Equal("tenants[0].alerts.digestIntervalSeconds", SingleError(json).Path);
    }

    [Fact]
    public void AnAlertAddressInsideTheTenantsDomainsIsRefusedWithAClearMessage()
    {
        JsonObject json = SampleConfiguration.Create();
        json["tenants"]![0]!["alerts"]!["emails"] = new JsonArray("it@norte.suempresa.test");
        ConfigurationError e = SingleError(json);
        Assert.Equal("tenants[0].alerts.emails[0]", e.Path);
        Assert.Contains("external address", e.Message, StringComparison.Ordinal);
    }
}
