using System.Text;
using System.Text.Json.Nodes;
using Respaldo.Configuration;

namespace Respaldo.Tests.Configuration;

public sealed class JournalSettingsTests
{
    private static (RespaldoSettings? Settings, IReadOnlyList<ConfigurationError> Errors) Parse(JsonNode json) =>
        ConfigurationLoader.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()), "/etc/respaldo/respaldo.json");

    [Fact]
    public void JournalKeepsFourHundredDaysUnlessTold()
    {
        Assert.Equal(TimeSpan.FromDays(400), Parse(SampleConfiguration.Create()).Settings!.Journal.Keep);
        JsonObject json = SampleConfiguration.Create();
        json["journal"] = new JsonObject { ["keepDays"] = 30 };
        Assert.Equal(TimeSpan.FromDays(30), Parse(json).Settings!.Journal.Keep);
    }

    [Fact]
    public void AKeepPeriodShorterThanAWeekIsRefusedByItsPath()
    {
        JsonObject json = SampleConfiguration.Create();
        json["journal"] = new JsonObject { ["keepDays"] = 3 };
        (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) = Parse(json);
        Assert.Null(settings);
        Assert.Equal("journal.keepDays", Assert.Single(errors).Path);
    }
}
