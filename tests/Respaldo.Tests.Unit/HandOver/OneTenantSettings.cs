using System.Text;
using Respaldo.Configuration;

namespace Respaldo.Tests.HandOver;

/// <summary>The settings of the hand-over's scripted-primary tests: one tenant, info@suempresa.test, one plain connection to the primary on <c>port</c>.</summary>
internal static class OneTenantSettings
{
    public static RespaldoSettings For(string stateDirectory, int port)
    {
        string json = $$"""
            {
              "hostname": "mail-backup.suempresa.test",
              "stateDirectory": "{{stateDirectory}}",
              "storage": { "allocation": "1GB", "minimumFree": "1000" },
              "tenants": [
                {
                  "id": "suempresa",
                  "domains": ["suempresa.test"],
                  "primary": { "hosts": ["127.0.0.1:{{port}}"], "tls": "none", "connections": 1 },
                  "mailboxes": [ { "address": "info@suempresa.test" } ]
                }
              ]
            }
            """;
        (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) = ConfigurationLoader.Parse(Encoding.UTF8.GetBytes(json), "/test.json");
        Assert.True(settings is not null, string.Join("; ", errors));
        return settings;
    }
}
