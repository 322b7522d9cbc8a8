using System.Text;
using System.Text.Json.Nodes;
using Respaldo.Configuration;

namespace Respaldo.Tests.Configuration;

/// <summary>
/// A value that ends in a newline is not a valid name (issue 16, item 19): .NET's '$' also
/// matches before a final '\n', so "mail.example.com\n" passed as a host name and "info\n@x" as an
/// address (the validator trims whole values, not the parts of an address). Patterns end with '\z' now.
/// </summary>
public sealed class TrailingNewlineTests
{
    [Theory]
    [InlineData("mail.example.com\n")]
    [InlineData("mail.example.com\r\n")]
    public void AHostNameWithATrailingNewlineIsNotValid(string name)
    {
        Assert.False(HostName.IsValid(name));
        Assert.True(HostName.IsValid(name.TrimEnd()));
    }

    [Fact]
    public void ALocalPartWithATrailingNewlineIsNotAnAddress()
    {
        Assert.False(MailAddress.TryNormalize("info\n@suempresa.test", out _, out _));
        Assert.True(MailAddress.TryNormalize("info@suempresa.test", out _, out _));
    }

    [Fact]
    public void ATenantIdsSurroundingNewlineIsTrimmedBeforeItIsUsed()
    {
        JsonObject json = SampleConfiguration.Create();
        json["tenants"]![0]!["id"] = "suempresa\n";
        (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) =
            ConfigurationLoader.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()), "/etc/respaldo/respaldo.json");
        Assert.Empty(errors);
        Assert.Equal("suempresa", settings!.Tenants[0].Id);
    }

    [Fact]
    public void ASizeMayEndInBlanksButIsStillParsed()
    {
        Assert.True(ByteSize.TryParse("50MB\n", out long bytes));
        Assert.Equal(50_000_000, bytes);
    }
}
