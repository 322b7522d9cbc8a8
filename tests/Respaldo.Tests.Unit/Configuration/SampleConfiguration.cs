using System.Text.Json.Nodes;

namespace Respaldo.Tests.Configuration;

/// <summary>A valid configuration as a JSON tree, for tests to break one field at a time.</summary>
internal static class SampleConfiguration
{
    public const string Hash = "{BLF-CRYPT}$2y$04$0ax9Zfd/gqdOyPgKzRQjM.ymW4sDrzpHSo0a1VjHJZZTYBzeZMr.i";

    public static JsonObject Create() => JsonNode.Parse($$"""
        {
          "hostname": "mail-backup.suempresa.test",
          "storage": { "allocation": "2GiB" },
          "tenants": [
            {
              "id": "suempresa",
              "name": "Su Empresa",
              "domains": ["suempresa.test", "*.suempresa.test"],
              "primary": { "hosts": ["mail.suempresa.test"] },
              "mailboxes": [
                { "address": "info@suempresa.test", "passwordHash": "{{Hash}}" },
                { "address": "juan@norte.suempresa.test", "quota": "1GiB" }
              ],
              "alerts": { "emails": ["it@external.test"] },
              "dashboardUsers": [ { "user": "ops", "passwordHash": "{{Hash}}" } ]
            },
            {
              "id": "otra",
              "domains": ["otra.test"],
              "primary": { "hosts": ["10.0.0.5:2525"], "tls": "verify" },
              "mailboxes": [ { "address": "Ana@Otra.test" } ]
            }
          ]
        }
        """)!.AsObject();
}
