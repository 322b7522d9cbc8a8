using System.Text;
using System.Text.Json.Nodes;
using Respaldo.Configuration;

namespace Respaldo.Tests.Configuration;

public sealed class ConfigurationValidatorTests
{
    private static (RespaldoSettings? Settings, IReadOnlyList<ConfigurationError> Errors) Parse(JsonNode json) =>
        ConfigurationLoader.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()), "/etc/respaldo/respaldo.json");

    private static (RespaldoSettings? Settings, IReadOnlyList<ConfigurationError> Errors) Parse(string json) =>
        ConfigurationLoader.Parse(Encoding.UTF8.GetBytes(json), "/etc/respaldo/respaldo.json");

    private static ConfigurationError SingleError(JsonNode json)
    {
        (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) = Parse(json);
        Assert.Null(settings);
        return Assert.Single(errors);
    }

    [Theory]
    [InlineData("""{ "everySeconds": 3600 }""", "tenants[0].drill.address")]
    [InlineData("""{ "address": "drill@example.net" }""", "tenants[0].drill.address")]
    [InlineData("""{ "address": "not an address" }""", "tenants[0].drill.address")]
    [InlineData("""{ "address": "info@suempresa.test", "everySeconds": 10 }""", "tenants[0].drill.everySeconds")]
    [InlineData("""{ "address": "info@suempresa.test", "timeoutSeconds": 0 }""", "tenants[0].drill.timeoutSeconds")]
    public void NamesTheFieldOfABadDrill(string drill, string path)
    {
        JsonObject json = SampleConfiguration.Create();
        json["tenants"]![0]!["drill"] = JsonNode.Parse(drill);
        Assert.Equal(path, SingleError(json).Path);
    }

    [Fact]
    public void ADrillIsOffUnlessConfiguredAndItsScheduleOffUnlessGiven()
    {
        JsonObject json = SampleConfiguration.Create();
        json["tenants"]![0]!["drill"] = JsonNode.Parse("""{ "address": "Info@SuEmpresa.test" }""");
        json["tenants"]![1]!["drill"] = JsonNode.Parse("""{ "address": "ana@otra.test", "everySeconds": 86400, "timeoutSeconds": 30 }""");
        (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) = Parse(json);
        Assert.Empty(errors);
        Assert.Equal(new DrillSettings("info@suempresa.test", TimeSpan.Zero, DrillSettings.DefaultTimeout), settings!.Tenants[0].Drill);
        Assert.Equal(new DrillSettings("ana@otra.test", TimeSpan.FromDays(1), TimeSpan.FromSeconds(30)), settings.Tenants[1].Drill);
        Assert.Null(Parse(SampleConfiguration.Create()).Settings!.Tenants[0].Drill);
    }

    [Fact]
    public void AcceptsTheSampleAndFillsDefaults()
    {
        (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) = Parse(SampleConfiguration.Create());
        Assert.Empty(errors);
        Assert.NotNull(settings);
        Assert.Equal("/var/lib/respaldo", settings.StateDirectory);
        Assert.Equal("respaldo-mail", settings.MailUser);
        Assert.Equal("respaldo", settings.DaemonUser);
        Assert.Equal(50L * 1024 * 1024, settings.MessageSizeLimit);
        Assert.Equal(2L * 1024 * 1024 * 1024, settings.Storage.Allocation);
        Assert.Equal([new HostPort("*", 25)], settings.Listen.Smtp);
        Tenant first = settings.Tenants[0];
        Assert.Equal([new HostPort("mail.suempresa.test", 25)], first.Primary.Hosts);
        Assert.Equal(TlsPolicy.Opportunistic, first.Primary.Tls);
        Assert.Equal(1L << 30, first.Mailboxes[1].Quota);
        Tenant second = settings.Tenants[1];
        Assert.Equal("otra", second.Name);
        Assert.Equal(TlsPolicy.Verify, second.Primary.Tls);
        Assert.Equal("ana@otra.test", second.Mailboxes[0].Address);
    }

    /// <summary>
    /// Issue 16, item 11: one user for Dovecot's mail processes and the daemon let any mail
    /// process read the daemon's journal, web keys and submission password. A configuration
    /// that names one user for both is refused.
    /// </summary>
    [Theory]
    [InlineData("respaldo", null)]
    [InlineData("vmail", "vmail")]
    public void RefusesOneUserForDovecotsMailProcessesAndTheDaemon(string mailUser, string? daemonUser)
    {
        JsonObject json = SampleConfiguration.Create();
        json["mailUser"] = mailUser;
        if (daemonUser is not null)
        {
            json["daemonUser"] = daemonUser;
        }
        ConfigurationError error = SingleError(json);
        Assert.Equal("mailUser", error.Path);
        Assert.Contains("daemonUser", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("root")]
    [InlineData("bad name")]
    public void RefusesADaemonUserThatIsRootOrNoName(string daemonUser)
    {
        JsonObject json = SampleConfiguration.Create();
        json["daemonUser"] = daemonUser;
        Assert.Equal("daemonUser", SingleError(json).Path);
    }

    [Theory]
    [InlineData("suempresa.test", true)]
    [InlineData("norte.suempresa.test", true)]
    [InlineData("a.b.norte.suempresa.test", true)]
    [InlineData("otra.test", false)]
    [InlineData("xsuempresa.test", false)]
    public void WildcardDomainsCoverEverySubdomain(string domain, bool served)
    {
        RespaldoSettings settings = Parse(SampleConfiguration.Create()).Settings!;
        Assert.Equal(served, settings.Tenants[0].ServesDomain(domain));
    }

    [Fact]
    public void NamesTheFieldOfABadDomain()
    {
        JsonObject json = SampleConfiguration.Create();
        json["tenants"]![1]!["domains"]!.AsArray().Add("bad_domain..test");
        ConfigurationError error = SingleError(json);
        Assert.Equal("tenants[1].domains[1]", error.Path);
        Assert.Contains("bad_domain..test", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("suempresa.*")]
    [InlineData("a.*.suempresa.test")]
    [InlineData("**.suempresa.test")]
    public void RefusesAWildcardAnywhereButTheFirstLabel(string pattern)
    {
        JsonObject json = SampleConfiguration.Create();
        json["tenants"]![1]!["domains"]!.AsArray().Add(pattern);
        Assert.Equal("tenants[1].domains[1]", SingleError(json).Path);
    }

    [Fact]
    public void RefusesAMailboxOutsideTheTenantsDomains()
    {
        JsonObject json = SampleConfiguration.Create();
        json["tenants"]![1]!["mailboxes"]![0]!["address"] = "ana@suempresa.test";
        ConfigurationError error = SingleError(json);
        Assert.Equal("tenants[1].mailboxes[0].address", error.Path);
        Assert.Contains("not in this tenant's domains", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RefusesAMailboxListedTwiceInAnyCase()
    {
        JsonObject json = SampleConfiguration.Create();
        JsonArray mailboxes = json["tenants"]![0]!["mailboxes"]!.AsArray();
        string first = mailboxes[0]!["address"]!.GetValue<string>();
        mailboxes.Add(new JsonObject { ["address"] = first.ToUpperInvariant() });
        ConfigurationError error = SingleError(json);
        Assert.Equal($"tenants[0].mailboxes[{mailboxes.Count - 1}].address", error.Path);
        Assert.Contains("is listed twice", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("user%other@suempresa.test")]
    [InlineData("a/b@suempresa.test")]
    [InlineData("\"quoted\"@suempresa.test")]
    [InlineData("a..b@suempresa.test")]
    [InlineData("nobody")]
    public void RefusesAddressesThatCouldRouteOrEscape(string address)
    {
        JsonObject json = SampleConfiguration.Create();
        json["tenants"]![0]!["mailboxes"]![0]!["address"] = address;
        Assert.Equal("tenants[0].mailboxes[0].address", SingleError(json).Path);
    }

    [Fact]
    public void RefusesDomainsThatOverlapAnotherTenant()
    {
        JsonObject json = SampleConfiguration.Create();
        json["tenants"]![1]!["domains"]!.AsArray().Add("sur.suempresa.test");
        ConfigurationError error = SingleError(json);
        Assert.Equal("tenants[1].domains[1]", error.Path);
        Assert.Contains("overlaps \"*.suempresa.test\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RefusesADuplicateTenantId()
    {
        JsonObject json = SampleConfiguration.Create();
        json["tenants"]![1]!["id"] = "suempresa";
        ConfigurationError error = SingleError(json);
        Assert.Equal("tenants[1].id", error.Path);
    }

    [Fact]
    public void RefusesAnAlertAddressInsideTheTenantsOwnDomains()
    {
        JsonObject json = SampleConfiguration.Create();
        json["tenants"]![0]!["alerts"]!["emails"]!.AsArray().Add("jefe@sur.suempresa.test");
        ConfigurationError error = SingleError(json);
        Assert.Equal("tenants[0].alerts.emails[1]", error.Path);
        Assert.Contains("external address", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReportsAnUnknownFieldByItsPath()
    {
        JsonObject json = SampleConfiguration.Create();
        json["tenants"]![0]!["mailboxs"] = new JsonArray();
        ConfigurationError error = SingleError(json);
        Assert.Equal("tenants[0].mailboxs", error.Path);
        Assert.Contains("unknown field", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReportsAWrongTypeByItsPath()
    {
        JsonObject json = SampleConfiguration.Create();
        json["tenants"]![0]!["domains"] = "suempresa.test";
        ConfigurationError error = SingleError(json);
        Assert.Equal("tenants[0].domains", error.Path);
    }

    [Fact]
    public void ReportsJsonSyntaxErrorsWithTheLine()
    {
        (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) = Parse("{\n  \"hostname\": \"x.test\",\n  \"tenants\": [ }\n");
        Assert.Null(settings);
        Assert.Contains("line 3", Assert.Single(errors).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("50MB", 50_000_000L)]
    [InlineData("50MiB", 52_428_800L)]
    [InlineData("1.5GiB", 1_610_612_736L)]
    [InlineData("1024", 1024L)]
    public void ParsesSizesWithUnits(string text, long bytes)
    {
        JsonObject json = SampleConfiguration.Create();
        json["messageSizeLimit"] = text == "1024" ? 1_048_576 : text;
        RespaldoSettings? settings = Parse(json).Settings;
        Assert.NotNull(settings);
        Assert.Equal(text == "1024" ? 1_048_576 : bytes, settings.MessageSizeLimit);
        Assert.True(ByteSize.TryParse(text, out long parsed));
        Assert.Equal(bytes, parsed);
    }

    [Theory]
    [InlineData("50 apples")]
    [InlineData("-5MB")]
    [InlineData("5mb")]
    public void RefusesSizesItCannotRead(string text)
    {
        JsonObject json = SampleConfiguration.Create();
        json["storage"]!["allocation"] = text;
        Assert.Equal("storage.allocation", SingleError(json).Path);
    }

    [Theory]
    [InlineData("mail.suempresa.test:0")]
    [InlineData("mail.suempresa.test:70000")]
    [InlineData("mail.suempresa.test:smtp")]
    [InlineData("::1:25")]
    [InlineData("*")]
    public void RefusesBadPrimaryHosts(string host)
    {
        JsonObject json = SampleConfiguration.Create();
        json["tenants"]![0]!["primary"]!["hosts"]![0] = host;
        Assert.Equal("tenants[0].primary.hosts[0]", SingleError(json).Path);
    }

    [Fact]
    public void AcceptsIpv6PrimariesInBrackets()
    {
        JsonObject json = SampleConfiguration.Create();
        json["tenants"]![0]!["primary"]!["hosts"]![0] = "[2001:db8::25]:2525";
        Assert.Equal(new HostPort("2001:db8::25", 2525), Parse(json).Settings!.Tenants[0].Primary.Hosts[0]);
    }

    [Fact]
    public void RefusesAnUnknownTlsPolicy()
    {
        JsonObject json = SampleConfiguration.Create();
        json["tenants"]![0]!["primary"]!["tls"] = "maybe";
        Assert.Equal("tenants[0].primary.tls", SingleError(json).Path);
    }

    [Fact]
    public void RefusesAnLmtpPortSinceLmtpIsAUnixSocketNow()
    {
        JsonObject json = SampleConfiguration.Create();
        json["listen"] = new JsonObject { ["lmtp"] = "127.0.0.1:24" };
        ConfigurationError e = SingleError(json);
        Assert.Equal("listen.lmtp", e.Path);
        Assert.Contains("unix socket", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RefusesAPasswordHashItCannotVerifyWithoutEchoingIt()
    {
        JsonObject json = SampleConfiguration.Create();
        json["tenants"]![0]!["mailboxes"]![0]!["passwordHash"] = "{PLAIN}hunter2";
        ConfigurationError error = SingleError(json);
        Assert.Equal("tenants[0].mailboxes[0].passwordHash", error.Path);
        Assert.DoesNotContain("hunter2", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void RefusesACertificateWithoutItsKey()
    {
        JsonObject json = SampleConfiguration.Create();
        json["web"] = new JsonObject { ["certificateFile"] = "/etc/ssl/certs/x.pem" };
        Assert.Equal("web.keyFile", SingleError(json).Path);
    }

    [Fact]
    public void RefusesUserNamesUsedTwice()
    {
        JsonObject json = SampleConfiguration.Create();
        json["tenants"]![1]!["dashboardUsers"] = new JsonArray(new JsonObject { ["user"] = "ops", ["passwordHash"] = SampleConfiguration.Hash });
        Assert.Equal("tenants[1].dashboardUsers[0].user", SingleError(json).Path);
    }

    [Fact]
    public void ReportsEveryErrorInOnePass()
    {
        JsonObject json = SampleConfiguration.Create();
        json.Remove("hostname");
        json["tenants"]![0]!["domains"]![0] = "bad domain";
        json["tenants"]![1]!["primary"]!["hosts"] = new JsonArray();
        (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) = Parse(json);
        Assert.Null(settings);
        string[] paths = errors.Select(e => e.Path).ToArray();
        Assert.Contains("hostname", paths);
        Assert.Contains("tenants[0].domains[0]", paths);
        Assert.Contains("tenants[1].primary.hosts", paths);
    }

    [Fact]
    public void RequiresAtLeastOneTenant()
    {
        JsonObject json = SampleConfiguration.Create();
        json["tenants"] = new JsonArray();
        Assert.Equal("tenants", SingleError(json).Path);
    }

    [Fact]
    public void FrontDoorDefaults()
    {
        RespaldoSettings settings = Parse(SampleConfiguration.Create()).Settings!;
        Assert.Equal("/run/respaldo/policy.sock", settings.Intake.PolicySocket);
        Assert.Null(settings.Intake.CertificateFile);
        Assert.True(settings.Tenants[0].AcceptOnlyWhilePrimaryDown);
        Assert.False(settings.Tenants[0].Recipients.IsDynamic);
        Assert.Equal(TimeSpan.FromDays(30), settings.Tenants[0].Recipients.PositiveTtl);
        Assert.Equal(TimeSpan.FromSeconds(60), settings.Controller.IdleProbeInterval);
        Assert.Equal(2, settings.Controller.DownAfterFailures);
        Assert.Equal(TimeSpan.FromSeconds(120), settings.Controller.UpAfter);
        Assert.Equal(100, settings.Controller.MaxConnections);
    }

    [Fact]
    public void ReadsTheFrontDoorFields()
    {
        JsonObject json = SampleConfiguration.Create();
        json["intake"] = JsonNode.Parse("""{ "policySocket": "/run/r/p.sock", "certificateFile": "/etc/r/c.pem", "keyFile": "/etc/r/k.pem" }""");
        json["controller"] = JsonNode.Parse("""{ "idleProbeIntervalSeconds": 30, "downAfterFailures": 3, "upAfterSeconds": 0, "calloutTimeoutSeconds": 5, "calloutsPerClientPerMinute": 3, "calloutsPerClientPerHour": 20, "maxConnections": 250 }""");
        json["tenants"]![1]!["acceptOnlyWhilePrimaryDown"] = false;
        json["tenants"]![1]!["recipients"] = JsonNode.Parse("""{ "learn": true, "file": "/etc/r/otra.txt", "positiveCacheDays": 7, "negativeCacheHours": 0 }""");
        (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) = Parse(json);
        Assert.Empty(errors);
        Assert.Equal(new IntakeSettings("/run/r/p.sock", "/etc/r/c.pem", "/etc/r/k.pem"), settings!.Intake);
        Assert.Equal(3, settings.Controller.DownAfterFailures);
        Assert.Equal(10 * 1024, settings.Controller.MinimumDataRate);
        Assert.Equal(TimeSpan.Zero, settings.Controller.UpAfter);
        Assert.Equal((3, 20), (settings.Controller.CalloutsPerClientPerMinute, settings.Controller.CalloutsPerClientPerHour));
        Assert.Equal(250, settings.Controller.MaxConnections);
        Tenant otra = settings.Tenants[1];
        Assert.False(otra.AcceptOnlyWhilePrimaryDown);
        Assert.Equal(new RecipientSettings(true, "/etc/r/otra.txt", TimeSpan.FromDays(7), TimeSpan.Zero), otra.Recipients);
        Assert.True(otra.Recipients.IsDynamic);
    }

    [Theory]
    [InlineData("intake", """{ "policySocket": "run/policy.sock" }""", "intake.policySocket")]
    [InlineData("intake", """{ "policySocket": "/run/a-very-long-directory-name-that-goes-on-and-on/and-on-and-on/until-it-no-longer-fits-in-sun-path/policy.sock" }""", "intake.policySocket")]
    [InlineData("intake", """{ "policySocket": "/run/a b/policy.sock" }""", "intake.policySocket")]
    [InlineData("intake", """{ "certificateFile": "/etc/r/c.pem" }""", "intake.keyFile")]
    [InlineData("intake", """{ "keyFile": "/etc/r/k.pem" }""", "intake.certificateFile")]
    [InlineData("controller", """{ "downAfterFailures": 0 }""", "controller.downAfterFailures")]
    [InlineData("controller", """{ "idleProbeIntervalSeconds": 0 }""", "controller.idleProbeIntervalSeconds")]
    [InlineData("controller", """{ "upAfterSeconds": -1 }""", "controller.upAfterSeconds")]
    [InlineData("controller", """{ "calloutTimeoutSeconds": 60 }""", "controller.calloutTimeoutSeconds")]
    [InlineData("controller", """{ "calloutsPerClientPerMinute": 0 }""", "controller.calloutsPerClientPerMinute")]
    [InlineData("controller", """{ "calloutsPerClientPerMinute": 20, "calloutsPerClientPerHour": 10 }""", "controller.calloutsPerClientPerHour")]
    [InlineData("controller", """{ "minimumDataRate": "50" }""", "controller.minimumDataRate")]
    [InlineData("controller", """{ "setupCheckIntervalSeconds": 30 }""", "controller.setupCheckIntervalSeconds")]
    [InlineData("controller", """{ "minimumDataRate": "fast" }""", "controller.minimumDataRate")]
    [InlineData("controller", """{ "maxConnections": 0 }""", "controller.maxConnections")]
    public void NamesTheFieldOfABadFrontDoorSetting(string section, string value, string path)
    {
        JsonObject json = SampleConfiguration.Create();
        json[section] = JsonNode.Parse(value);
        Assert.Equal(path, SingleError(json).Path);
    }

    [Theory]
    [InlineData("""{ "file": "otra.txt" }""", "tenants[1].recipients.file")]
    [InlineData("""{ "learn": true, "positiveCacheDays": 0 }""", "tenants[1].recipients.positiveCacheDays")]
    [InlineData("""{ "learn": true, "negativeCacheHours": -1 }""", "tenants[1].recipients.negativeCacheHours")]
    [InlineData("""{ "learn": "yes" }""", "tenants[1].recipients.learn")]
    public void NamesTheFieldOfABadRecipientsSetting(string value, string path)
    {
        JsonObject json = SampleConfiguration.Create();
        json["tenants"]![1]!["recipients"] = JsonNode.Parse(value);
        Assert.Equal(path, SingleError(json).Path);
    }
}
