using System.Text;
using System.Text.Json.Nodes;
using Respaldo.Configuration;

namespace Respaldo.Tests.Configuration;

/// <summary>webmail.sendLimitPerHour: its default, a value read, and out-of-range values named by path.</summary>
public sealed class WebmailSettingsTests
{
    private static (RespaldoSettings? Settings, IReadOnlyList<ConfigurationError> Errors) Parse(JsonNode json) =>
        ConfigurationLoader.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()), "/etc/respaldo/respaldo.json");

    [Fact]
    public void TheSendLimitDefaultsToThirtyAnHour()
    {
        Assert.Equal(30, Parse(SampleConfiguration.Create()).Settings!.Webmail.SendLimitPerHour);
        JsonObject json = SampleConfiguration.Create();
        json["webmail"] = new JsonObject { ["sendLimitPerHour"] = 5 };
        Assert.Equal(5, Parse(json).Settings!.Webmail.SendLimitPerHour);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(10_001)]
    public void AnUnusableSendLimitIsNamed(int limit)
    {
        JsonObject json = SampleConfiguration.Create();
        json["webmail"] = new JsonObject { ["sendLimitPerHour"] = limit };
        (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) = Parse(json);
        Assert.Null(settings);
        Assert.Equal("webmail.sendLimitPerHour", Assert.Single(errors).Path);
    }
}
