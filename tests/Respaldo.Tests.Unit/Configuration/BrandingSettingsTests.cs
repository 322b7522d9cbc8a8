using System.Text;
using System.Text.Json.Nodes;
using Respaldo.Configuration;

namespace Respaldo.Tests.Configuration;

public sealed class BrandingSettingsTests
{
    private static (RespaldoSettings? Settings, IReadOnlyList<ConfigurationError> Errors) Parse(JsonNode json) =>
        ConfigurationLoader.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()), "/etc/respaldo/respaldo.json");

    private static JsonObject WithBranding(JsonObject branding)
    {
        JsonObject json = SampleConfiguration.Create();
        json["tenants"]![0]!["branding"] = branding;
        return json;
    }

    [Fact]
    public void WithoutBrandingTheWebmailWearsTheTenantsNameAndDefaultColours()
    {
        RespaldoSettings settings = Parse(SampleConfiguration.Create()).Settings!;
        Tenant tenant = settings.Tenants[0];
        Assert.Null(tenant.Branding);
        Assert.Equal(TenantBranding.Default(tenant.Name), tenant.Brand);
    }

    [Fact]
    public void ReadsNameLogoAndColours()
    {
        (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) = Parse(WithBranding(new JsonObject
        {
            ["name"] = "Correo de Su Empresa",
            ["logoUrl"] = "https://www.suempresa.test/logo.png",
            ["primaryColor"] = "#0A5C36",
            ["backgroundColor"] = "#ffffff",
        }));
        Assert.Empty(errors);
        TenantBranding brand = settings!.Tenants[0].Brand;
        Assert.Equal("Correo de Su Empresa", brand.Name);
        Assert.Equal(new Uri("https://www.suempresa.test/logo.png"), brand.LogoUrl);
        Assert.Equal("#0a5c36", brand.PrimaryColor);
        Assert.Equal("#ffffff", brand.BackgroundColor);
    }

    [Fact]
    public void AMissingNameIsTheTenantsName()
    {
        RespaldoSettings settings = Parse(WithBranding(new JsonObject { ["primaryColor"] = "#123456" })).Settings!;
        Assert.Equal(settings.Tenants[0].Name, settings.Tenants[0].Brand.Name);
        Assert.Equal(TenantBranding.DefaultBackground, settings.Tenants[0].Brand.BackgroundColor);
    }

    [Theory]
    [InlineData("primaryColor", "red", "tenants[0].branding.primaryColor")]
    [InlineData("backgroundColor", "#12345", "tenants[0].branding.backgroundColor")]
    [InlineData("primaryColor", "#12345g", "tenants[0].branding.primaryColor")]
    [InlineData("primaryColor", "#123456;}body{x:1", "tenants[0].branding.primaryColor")]
    [InlineData("logoUrl", "http://www.suempresa.test/logo.png", "tenants[0].branding.logoUrl")]
    [InlineData("logoUrl", "javascript:alert(1)", "tenants[0].branding.logoUrl")]
    [InlineData("logoUrl", "/logo.png", "tenants[0].branding.logoUrl")]
    [InlineData("name", "", "tenants[0].branding.name")]
    public void NamesTheFieldOfABadBrandingValue(string field, string value, string path)
    {
        (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) = Parse(WithBranding(new JsonObject { [field] = value }));
        Assert.Null(settings);
        Assert.Equal(path, Assert.Single(errors).Path);
    }
}
