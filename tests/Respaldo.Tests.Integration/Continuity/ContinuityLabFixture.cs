using System.Text.Json.Nodes;

namespace Respaldo.Tests.Lab;

/// <summary>
/// The lab with tenants set up right and wrong in DNS, for the set-up check. <c>suempresa</c>
/// is right: the lab's own zone (MX 10 mail, MX 20 mail-backup, the same under <c>*</c>), a probe
/// recipient the primary has, this server's address in <c>intake.publicAddresses</c> and a PTR
/// for it. Each other tenant has one fault in its zone, written here: <c>sinmx20</c> lacks the
/// backup's MX, <c>invertido</c> lists the backup before the primary, <c>comodin</c> has no MX
/// under its <c>*.</c> pattern, <c>sindireccion</c> names an MX host without an address, and
/// <c>fuera</c>'s domain is in no zone of the lab's DNS, which refuses to answer for it.
/// The backup's name has a TLSA record (DANE-EE, its public key's SHA-256) matching the lab's
/// certificate; <see cref="PublishTlsaAsync"/> replaces it.
/// MTA-STS: <c>suempresa.test</c> and <c>sinsts.test</c> publish a policy (<c>_mta-sts</c> TXT,
/// <c>mta-sts</c> at <see cref="MtaStsPolicyServer.Address"/>), served over HTTPS by
/// <see cref="Policies"/> with a certificate from the test's own <see cref="Ca"/>, which the lab's
/// controller trusts (LAB_TRUSTED_CA); suempresa's lists the backup, <c>sinsts</c>'s does not, and
/// <c>stsroto</c>'s two domains answer with a redirect and with a policy past the size cap.
/// The backup's certificate is re-issued by that CA on the lab's key (so the TLSA record still
/// matches and a sender under MTA-STS would trust it); <see cref="IssueBackupCertificateAsync"/>
/// re-issues it with another validity (an expiring certificate).
/// </summary>
public sealed class ContinuityLabFixture : LabFixture
{
    public const string Backup = "mail-backup.suempresa.test";

    public ContinuityLabFixture() : this(new TestCa()) { }

    private ContinuityLabFixture(TestCa ca) : base("continuity", new Dictionary<string, string> { ["LAB_TRUSTED_CA"] = ca.PemPath }) => Ca = ca;

    /// <summary>The test's CA: the lab's controller trusts it besides the system's.</summary>
    public TestCa Ca { get; }

    /// <summary>The HTTPS server of every <c>mta-sts.DOMAIN</c> in the lab (started with the lab).</summary>
    public MtaStsPolicyServer? Policies { get; private set; }

    /// <summary>How long the backup's certificate is valid in the right set-up.</summary>
    public static readonly TimeSpan RightCertificateValidity = TimeSpan.FromDays(90);

    /// <summary>
    /// Each domain's MTA-STS answer: the right one lists the backup, sinsts.test's does not; stsroto's
    /// two domains break the fetch itself (a redirect senders must not follow, a body past the 64 KiB cap).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, PolicyResponse> MtaStsPolicies = new Dictionary<string, PolicyResponse>
    {
        ["suempresa.test"] = new($"version: STSv1\r\nmode: enforce\r\nmx: mail.suempresa.test\r\nmx: {Backup}\r\nmax_age: 86400\r\n"),
        ["sinsts.test"] = new("version: STSv1\r\nmode: enforce\r\nmx: mail.sinsts.test\r\nmax_age: 86400\r\n"),
        ["redirige.test"] = new("", "301 Moved Permanently", "https://mta-sts.suempresa.test/.well-known/mta-sts.txt"),
        ["grande.test"] = new($"version: STSv1\r\nmode: enforce\r\nmx: {Backup}\r\nmax_age: 86400\r\n{string.Concat(Enumerable.Repeat("x-padding: 0123456789abcdef0123456789abcdef0123456789abcdef012345\r\n", 1100))}"),
    };

    private const string StsRecords = $"_mta-sts IN TXT \"v=STSv1; id=20261207\"\nmta-sts IN A {MtaStsPolicyServer.Address}";

    /// <summary>Each wrong tenant, its domains, and its zones (name, text); @HOST@ is the lab's address.</summary>
    public static readonly (string Tenant, string[] Domains, (string Name, string Text)[] Zones)[] Wrong =
    [
        ("sinmx20", ["sinmx20.test"], [Zone("sinmx20.test", "@ IN MX 10 mail.sinmx20.test.\nmail IN A @HOST@")]),
        ("invertido", ["invertido.test"], [Zone("invertido.test", $"@ IN MX 10 {Backup}.\n@ IN MX 20 mail.invertido.test.\nmail IN A @HOST@")]),
        ("comodin", ["comodin.test", "*.comodin.test"], [Zone("comodin.test", $"@ IN MX 10 mail.comodin.test.\n@ IN MX 20 {Backup}.\nmail IN A @HOST@")]),
        ("sindireccion", ["sindireccion.test"], [Zone("sindireccion.test",
            $"@ IN MX 10 mail.sindireccion.test.\n@ IN MX 20 {Backup}.\n@ IN MX 30 viejo.sindireccion.test.\nmail IN A @HOST@")]),
        ("fuera", ["fuera.example"], []),
        ("sinsts", ["sinsts.test"], [StsZone("sinsts.test")]),
        ("stsroto", ["redirige.test", "grande.test"], [StsZone("redirige.test"), StsZone("grande.test")]),
    ];

    protected override void Configure(JsonObject config)
    {
        config["intake"]!["publicAddresses"] = new JsonArray("127.0.0.1");
        config["storage"] = new JsonObject { ["allocation"] = "64MiB", ["minimumFree"] = "16MiB" };
        JsonObject right = config["tenants"]![0]!.AsObject();
        string primary = right["primary"]!["hosts"]![0]!.GetValue<string>();
        right["primary"]!["probeRecipient"] = "postmaster@suempresa.test";
        var tenants = new JsonArray(right.DeepClone());
        foreach ((string id, string[] domains, _) in Wrong)
        {
            tenants.Add(new JsonObject
            {
                ["id"] = id,
                ["domains"] = new JsonArray(domains.Select(d => (JsonNode)JsonValue.Create(d)!).ToArray()),
                ["primary"] = new JsonObject { ["hosts"] = new JsonArray(primary) },
                ["mailboxes"] = new JsonArray(new JsonObject { ["address"] = $"info@{domains[0]}" }),
                ["alerts"] = new JsonObject { ["emails"] = new JsonArray("it@external.test") },
            });
        }
        config["tenants"] = tenants;
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync().ConfigureAwait(false);
        await IssueBackupCertificateAsync(RightCertificateValidity).ConfigureAwait(false);
        Policies = new MtaStsPolicyServer(Ca, MtaStsPolicies);
        string zones = this["DNS_ZONES"];
        // Note: the lab's own suempresa.test zone is the lab script's; its MTA-STS names are zones of their own, as the TLSA name is.
        (string, string)[] rightSts =
        [
            Zone("_mta-sts.suempresa.test", "@ IN TXT \"v=STSv1; id=20261207\""),
            Zone("mta-sts.suempresa.test", $"@ IN A {MtaStsPolicyServer.Address}"),
        ];
        foreach ((string name, string text) in Wrong.SelectMany(w => w.Zones).Concat(rightSts).Append(Zone("0.0.127.in-addr.arpa", $"1 IN PTR {Backup}.")).Append(TlsaZone(RightTlsa)))
        {
            await File.WriteAllTextAsync(Path.Combine(zones, name + ".zone"), text.Replace("@HOST@", "127.0.0.1", StringComparison.Ordinal)).ConfigureAwait(false);
        }
        await RunLabAsync("dns-reload").ConfigureAwait(false);
        // Note: the right tenant has run a fire drill (the lab gives it a drill address):
        // primary-accepts-backup reads the last one. The wrong tenants have none (a warning).
        ProcessRunner.Result drill = await LabCtlAsync("drill", "suempresa").ConfigureAwait(false);
        if (drill.ExitCode != 0)
        {
            throw new InvalidOperationException($"the right tenant's fire drill failed: {drill}");
        }
    }

    public override async Task DisposeAsync()
    {
        if (Policies is not null)
        {
            await Policies.DisposeAsync().ConfigureAwait(false);
        }
        await base.DisposeAsync().ConfigureAwait(false);
        Ca.Dispose();
    }

    /// <summary>
    /// Writes the backup's certificate (tls/backup.crt, the lab's intake.certificateFile) anew: issued by
    /// <see cref="Ca"/> for <see cref="Backup"/> on the lab's own key (tls/backup.key), valid from a day ago
    /// for <paramref name="validFor"/>, followed by the CA's certificate. The set-up check reads the file
    /// at each run; Postfix's smtpd at each new process.
    /// </summary>
    public async Task IssueBackupCertificateAsync(TimeSpan validFor)
    {
        using var key = System.Security.Cryptography.RSA.Create();
        key.ImportFromPem(await File.ReadAllTextAsync(Path.Combine(Directory, "tls", "backup.key")).ConfigureAwait(false));
        using System.Security.Cryptography.X509Certificates.X509Certificate2 issued = Ca.Issue(key, validFor, Backup);
        string path = Path.Combine(Directory, "tls", "backup.crt");
        await File.WriteAllTextAsync(path + ".new", issued.ExportCertificatePem() + "\n" + Ca.CertificatePem).ConfigureAwait(false);
        File.Move(path + ".new", path, overwrite: true);
    }

    /// <summary>SHA-256 of the lab certificate's public key: the data of a matching "TLSA 3 1 1".</summary>
    public string RightTlsa => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
        Respaldo.Continuity.SetupFactGatherer.Certificate(Path.Combine(Directory, "tls", "backup.crt")).PublicKeys[0]));

    /// <summary>Publishes "TLSA 3 1 1 <paramref name="sha256"/>" for the backup's SMTP service and reloads the DNS.</summary>
    public async Task PublishTlsaAsync(string sha256)
    {
        (string name, string text) = TlsaZone(sha256);
        await File.WriteAllTextAsync(Path.Combine(this["DNS_ZONES"], name + ".zone"), text).ConfigureAwait(false);
        await RunLabAsync("dns-reload").ConfigureAwait(false);
    }

    /// <summary>Points <c>mta-sts.suempresa.test</c> at <paramref name="address"/> and reloads the DNS.</summary>
    public async Task PublishStsHostAsync(string address)
    {
        (string name, string text) = Zone("mta-sts.suempresa.test", $"@ IN A {address}");
        await File.WriteAllTextAsync(Path.Combine(this["DNS_ZONES"], name + ".zone"), text).ConfigureAwait(false);
        await RunLabAsync("dns-reload").ConfigureAwait(false);
    }

    /// <summary>A domain with the right MX records and an MTA-STS record whose policy is at <see cref="MtaStsPolicyServer.Address"/>.</summary>
    private static (string, string) StsZone(string domain) => Zone(domain, $"@ IN MX 10 mail.{domain}.\n@ IN MX 20 {Backup}.\nmail IN A @HOST@\n{StsRecords}");

    private static (string, string) TlsaZone(string sha256) => Zone($"_25._tcp.{Backup}", $"@ IN TLSA 3 1 1 {sha256}");

    private static (string, string) Zone(string name, string records) => (name, $"""
        $ORIGIN {name}.
        $TTL 60
        @ IN SOA ns.lab.test. hostmaster.lab.test. 1 60 60 600 60
        @ IN NS  ns.lab.test.
        {records}

        """);
}

[CollectionDefinition(Name)]
public sealed class ContinuityLabCollection : ICollectionFixture<ContinuityLabFixture>
{
    public const string Name = "continuity lab";
}
