using System.Text;
using System.Text.Json.Nodes;
using Respaldo.Configuration;

namespace Respaldo.Tests.Configuration;

/// <summary>The border's sections: dns, filter, intake's postscreen lists, tenants[].filtering.</summary>
public sealed class BorderConfigurationTests
{
    private static (RespaldoSettings? Settings, IReadOnlyList<ConfigurationError> Errors) Parse(JsonNode json) =>
        ConfigurationLoader.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()), "/etc/respaldo/respaldo.json");

    private static ConfigurationError SingleError(JsonNode json)
    {
        (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) = Parse(json);
        Assert.Null(settings);
        return Assert.Single(errors);
    }

    [Fact]
    public void TheBorderIsOnByDefaultWithTheSystemsResolversAndNoLists()
    {
        RespaldoSettings s = Parse(SampleConfiguration.Create()).Settings!;
        Assert.True(s.Filter.Enabled);
        Assert.Equal(new HostPort("127.0.0.1", 11339), s.Filter.Milter);
        Assert.Equal(s.Hostname, s.Filter.ArcDomain);
        Assert.Equal("respaldo", s.Filter.ArcSelector);
        Assert.Empty(s.Dns.Resolvers);
        Assert.Empty(s.Intake.Dnsbl);
        Assert.Equal(TimeSpan.FromSeconds(6), s.Intake.PregreetWait);
        Assert.Null(s.Intake.ProxyProtocol);
        Assert.Equal(FilteringSettings.Default, s.Tenants[0].Filtering);
        Assert.True(s.Tenants[0].Filtering.HonourDmarcReject);
    }

    [Fact]
    public void ReadsResolversListsAndATenantsThresholds()
    {
        JsonObject json = SampleConfiguration.Create();
        json["dns"] = new JsonObject { ["resolvers"] = new JsonArray("127.0.0.53", "127.0.0.1:5353") };
        json["intake"] = new JsonObject
        {
            ["dnsbl"] = new JsonArray(new JsonObject { ["zone"] = "Zen.Spamhaus.org", ["weight"] = 3 }, new JsonObject { ["zone"] = "list.dnswl.org", ["weight"] = -5 }),
            ["dnsblThreshold"] = 2,
            ["pregreetWaitSeconds"] = 3,
            ["proxyProtocol"] = "haproxy",
        };
        json["tenants"]![0]!["filtering"] = new JsonObject
        {
            ["rejectScore"] = 12, ["deferScore"] = 6.5, ["honourDmarcReject"] = false, ["dnsbl"] = new JsonArray("bl.example.net", "BL.example.net"),
        };
        (RespaldoSettings? s, IReadOnlyList<ConfigurationError> errors) = Parse(json);
        Assert.Empty(errors);
        Assert.Equal([new HostPort("127.0.0.53", 53), new HostPort("127.0.0.1", 5353)], s!.Dns.Resolvers);
        Assert.Equal(["zen.spamhaus.org*3", "list.dnswl.org*-5"], s.Intake.Dnsbl.Select(d => d.ToString()));
        Assert.Equal(2, s.Intake.DnsblThreshold);
        Assert.Equal(TimeSpan.FromSeconds(3), s.Intake.PregreetWait);
        Assert.Equal("haproxy", s.Intake.ProxyProtocol);
        FilteringSettings f = s.Tenants[0].Filtering;
        Assert.Equal((12.0, 6.5, false), (f.RejectScore, f.DeferScore, f.HonourDmarcReject));
        Assert.Equal(["bl.example.net"], f.Dnsbl);
    }

    [Theory]
    [InlineData("resolver.example.net", "dns.resolvers[0]")]
    [InlineData("127.0.0.1:99999", "dns.resolvers[0]")]
    public void NamesABadResolver(string resolver, string path)
    {
        JsonObject json = SampleConfiguration.Create();
        json["dns"] = new JsonObject { ["resolvers"] = new JsonArray(resolver) };
        Assert.Equal(path, SingleError(json).Path);
    }

    [Fact]
    public void RefusesADeferScoreAboveTheRejectScore()
    {
        JsonObject json = SampleConfiguration.Create();
        json["tenants"]![1]!["filtering"] = new JsonObject { ["rejectScore"] = 5, ["deferScore"] = 9 };
        ConfigurationError e = SingleError(json);
        Assert.Equal("tenants[1].filtering.deferScore", e.Path);
    }

    [Fact]
    public void ALowRejectScoreAloneLowersTheDeferScoreWithIt()
    {
        JsonObject json = SampleConfiguration.Create();
        json["tenants"]![1]!["filtering"] = new JsonObject { ["rejectScore"] = 5 };
        RespaldoSettings s = Parse(json).Settings!;
        Assert.Equal(5, s.Tenants[1].Filtering.DeferScore);
    }

    [Fact]
    public void TheMilterMustBeOnTheLoopback()
    {
        JsonObject json = SampleConfiguration.Create();
        json["filter"] = new JsonObject { ["milter"] = "192.0.2.1:11332" };
        Assert.Equal("filter.milter", SingleError(json).Path);
    }

    [Theory]
    [InlineData("arcSelector", "two.labels")]
    [InlineData("arcDomain", "bad_domain..test")]
    [InlineData("timeoutSeconds", 0)]
    public void NamesABadFilterSetting(string field, object value)
    {
        JsonObject json = SampleConfiguration.Create();
        json["filter"] = new JsonObject { [field] = JsonValue.Create(value) };
        Assert.Equal($"filter.{field}", SingleError(json).Path);
    }

    [Theory]
    [InlineData("{\"zone\": \"not a zone\"}", "intake.dnsbl[0].zone")]
    [InlineData("{\"zone\": \"zen.spamhaus.org\", \"weight\": 0}", "intake.dnsbl[0].weight")]
    public void NamesABadPostscreenList(string entry, string path)
    {
        JsonObject json = SampleConfiguration.Create();
        json["intake"] = new JsonObject { ["dnsbl"] = new JsonArray(JsonNode.Parse(entry)) };
        Assert.Equal(path, SingleError(json).Path);
    }

    [Fact]
    public void PostscreenSpeaksOnlyTheHaproxyProtocol()
    {
        JsonObject json = SampleConfiguration.Create();
        json["intake"] = new JsonObject { ["proxyProtocol"] = "nginx" };
        Assert.Equal("intake.proxyProtocol", SingleError(json).Path);
    }

    [Fact]
    public void PublicAddressesAreReadAndAnythingButAPlainAddressIsNamed()
    {
        JsonObject json = SampleConfiguration.Create();
        json["intake"] = new JsonObject { ["publicAddresses"] = new JsonArray("192.0.2.10", "2001:db8::10") };
        (RespaldoSettings? s, IReadOnlyList<ConfigurationError> errors) = Parse(json);
        Assert.Empty(errors);
        Assert.Equal(["192.0.2.10", "2001:db8::10"], s!.Intake.PublicAddresses.Select(a => a.ToString()));
        Assert.Empty(ConfigurationLoader.Parse(Encoding.UTF8.GetBytes(SampleConfiguration.Create().ToJsonString()), "/x.json").Settings!.Intake.PublicAddresses);

        json["intake"] = new JsonObject { ["publicAddresses"] = new JsonArray("192.0.2.10", "10", "192.0.2.0/24", "mail.example") };
        (_, errors) = Parse(json);
        Assert.Equal(["intake.publicAddresses[1]", "intake.publicAddresses[2]", "intake.publicAddresses[3]"], errors.Select(e => e.Path));
    }
}
