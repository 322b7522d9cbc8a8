namespace Respaldo.Configuration;

/// <summary>
/// The validated configuration. Built only by <see cref="ConfigurationLoader"/>, so every
/// value here has been checked: the rest of the program never re-validates.
/// </summary>
public sealed record RespaldoSettings
{
    public required string SourcePath { get; init; }
    public required string Hostname { get; init; }
    public required string StateDirectory { get; init; }
    /// <summary>Dovecot's mail_uid/mail_gid: every mail process (LMTP, IMAP) runs as this user; the maildirs are its group's.</summary>
    public required string MailUser { get; init; }

    /// <summary>The user respaldod runs as (a member of the mail user's group); its journal, keys and secrets are closed to the mail user.</summary>
    public string DaemonUser { get; init; } = "respaldo";
    public required long MessageSizeLimit { get; init; }
    public required StorageSettings Storage { get; init; }
    public required ListenSettings Listen { get; init; }
    public required PostfixSettings Postfix { get; init; }
    public required DovecotSettings Dovecot { get; init; }
    public required WebSettings Web { get; init; }
    public WebmailSettings Webmail { get; init; } = new(ConfigurationValidator.DefaultSendLimitPerHour);
    public required ControllerSettings Controller { get; init; }
    public required IReadOnlyList<Tenant> Tenants { get; init; }
    public IntakeSettings Intake { get; init; } = IntakeSettings.Default;
    public DnsSettings Dns { get; init; } = DnsSettings.System;
    public FilterSettings Filter { get; init; } = FilterSettings.Default("localhost");
    public JournalSettings Journal { get; init; } = JournalSettings.Default;

    /// <summary>Dovecot's maildirs: one per address, <c>maildirs/&lt;domain&gt;/&lt;local-part&gt;/</c>.</summary>
    public string MaildirRoot => Path.Combine(StateDirectory, "maildirs");

    /// <summary>Messages the primary refused for good, outside Dovecot's view (per tenant).</summary>
    public string HoldRoot => Path.Combine(StateDirectory, "held");

    /// <summary>The SQLite journal of probes, hand-overs and holds.</summary>
    public string JournalPath => Path.Combine(StateDirectory, "journal.sqlite");

    /// <summary>Dovecot's second userdb: addresses accepted through learning or an admin's list (written by the policy service).</summary>
    public string DynamicUsersPath => Path.Combine(StateDirectory, "dynamic-users");

    /// <summary>
    /// The ARC signing key the render step makes, beside the configuration (/etc/respaldo/arc/):
    /// root's directory, readable by rspamd's group. Note: not under the state directory, which
    /// only the mail user may enter (and whose contents that user controls).
    /// </summary>
    public string ArcKeyPath => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(SourcePath)) ?? "/etc/respaldo", "arc", "arc.key");
}

/// <summary>The SMTP front door: where the policy service listens, inbound STARTTLS (none without a certificate), postscreen.</summary>
public sealed record IntakeSettings(string PolicySocket, string? CertificateFile, string? KeyFile)
{
    public static IntakeSettings Default { get; } = new("/run/respaldo/policy.sock", null, null);

    /// <summary>postscreen's weighted DNS lists; empty means none (the default).</summary>
    public IReadOnlyList<DnsListSite> Dnsbl { get; init; } = [];

    public int DnsblThreshold { get; init; } = 3;

    /// <summary>postscreen_greet_wait: a client that speaks before its turn within this time is a pregreeter.</summary>
    public TimeSpan PregreetWait { get; init; } = TimeSpan.FromSeconds(6);

    /// <summary>postscreen_upstream_proxy_protocol ("haproxy"), or null.</summary>
    public string? ProxyProtocol { get; init; }

    /// <summary>
    /// The addresses senders reach this backup's port 25 at: what <c>hostname</c> (the backup's MX
    /// name) must resolve to. Empty means not configured; only the set-up check reads it.
    /// </summary>
    public IReadOnlyList<System.Net.IPAddress> PublicAddresses { get; init; } = [];
}

/// <summary>A postscreen DNS list: a zone and its weight (negative for an allow list).</summary>
public sealed record DnsListSite(string Zone, int Weight)
{
    /// <summary>The postscreen_dnsbl_sites form: zone*weight.</summary>
    public override string ToString() => $"{Zone}*{Weight.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
}

/// <summary>Recursive resolvers for the border's lookups; empty means the system's own.</summary>
public sealed record DnsSettings(IReadOnlyList<HostPort> Resolvers)
{
    public static DnsSettings System { get; } = new([]);
}

/// <summary>rspamd as Postfix's milter: where it listens, where it keeps its files, the ARC key's names.</summary>
public sealed record FilterSettings(
    bool Enabled,
    HostPort Milter,
    string WorkDirectory,
    string? LogFile,
    string ArcSelector,
    string ArcDomain,
    TimeSpan Timeout)
{
    public static FilterSettings Default(string hostname) => new(
        true, new HostPort("127.0.0.1", 11339), "/var/lib/respaldo-rspamd", null, "respaldo", hostname, TimeSpan.FromSeconds(60));

    /// <summary>An HTTP scan worker for rspamc (loopback), or null.</summary>
    public HostPort? ScanListen { get; init; }

    /// <summary>rspamd's hfilter module (host-name heuristics).</summary>
    public bool HostnameChecks { get; init; } = true;
}

/// <summary>A tenant's verdicts at the border (rspamd's settings for its recipients).</summary>
public sealed record FilteringSettings(double RejectScore, double DeferScore, bool HonourDmarcReject, IReadOnlyList<string> Dnsbl)
{
    public static FilteringSettings Default { get; } = new(15, 8, true, []);
}

/// <summary>How a tenant's valid recipients are known besides its listed mailboxes.</summary>
public sealed record RecipientSettings(bool Learn, string? File, TimeSpan PositiveTtl, TimeSpan NegativeTtl)
{
    public static RecipientSettings Static { get; } = new(false, null, TimeSpan.FromDays(30), TimeSpan.FromHours(4));

    /// <summary>True when addresses beyond the listed mailboxes may be accepted: Postfix defers the decision to the policy service.</summary>
    public bool IsDynamic => Learn || File is not null;
}

/// <summary>How long the journal keeps its history (holds still held are kept whatever their age).</summary>
public sealed record JournalSettings(TimeSpan Keep)
{
    public static JournalSettings Default { get; } = new(TimeSpan.FromDays(400));
}

public sealed record StorageSettings(long Allocation, long MinimumFree);

public sealed record ControllerSettings(
    TimeSpan ProbeInterval,
    TimeSpan ProbeIntervalMax,
    TimeSpan RescanInterval,
    TimeSpan CommandTimeout,
    TimeSpan DataTimeout,
    TimeSpan RetryMax)
{
    /// <summary>Probe interval while nothing waits (tenants with AcceptOnlyWhilePrimaryDown only).</summary>
    public TimeSpan IdleProbeInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How often the set-up check runs by itself, the first time shortly after start; zero: only on demand (doctor, the dashboard).</summary>
    public TimeSpan SetupCheckInterval { get; init; } = TimeSpan.FromHours(4);

    /// <summary>Consecutive failed probes before the front door opens ("the primary is down").</summary>
    public int DownAfterFailures { get; init; } = 2;

    /// <summary>How long the primary must answer every probe before the front door closes again.</summary>
    public TimeSpan UpAfter { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Timeout of each command of a recipient callout.</summary>
    public TimeSpan CalloutTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Callouts one SMTP client (an IPv4 address, an IPv6 /64) may cause per minute; beyond, 450 and no callout.</summary>
    public int CalloutsPerClientPerMinute { get; init; } = 10;

    /// <summary>The same per hour.</summary>
    public int CalloutsPerClientPerHour { get; init; } = 60;

    /// <summary>
    /// Bytes per second: the slowest a primary may take a message's data. A message's deadline
    /// grows with its size at this rate (<c>MessageDeadline</c>); a primary slower than this is a
    /// tarpit, and the message is deferred.
    /// </summary>
    public long MinimumDataRate { get; init; } = 10 * 1024;

    /// <summary>
    /// Hand-over connections open at once on the node, all tenants together (each tenant's own
    /// is primary.connections). Beyond it a connection waits for one to close, first come, first
    /// served: a thousand tenants whose primaries come back at once open this many, not 4,000.
    /// </summary>
    public int MaxConnections { get; init; } = 100;

    public static ControllerSettings Default { get; } = new(
        TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60), TimeSpan.FromMinutes(5),
        TimeSpan.FromSeconds(60), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10));
}

public sealed record ListenSettings(IReadOnlyList<HostPort> Smtp, HostPort Imap)
{
    /// <summary>Authenticated submission for the controller's alerts and the webmail (loopback only).</summary>
    public HostPort Submission { get; init; } = new("127.0.0.1", 587);
}

public sealed record PostfixSettings(
    string QueueDirectory,
    string DataDirectory,
    string? LogFile,
    string InetProtocols,
    bool DisableDns)
{
    /// <summary>Postfix's relayhost for mail leaving the backup; null means DNS MX (production).</summary>
    public string? RelayHost { get; init; }
}

public sealed record DovecotSettings(string BaseDirectory, string StateDirectory, string? LogFile);

public sealed record WebSettings(
    IReadOnlyList<HostPort> Listen,
    string? CertificateFile,
    string? KeyFile,
    IReadOnlyList<UserAccount> Admins)
{
    /// <summary>A dashboard session ends after this long without a request.</summary>
    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Provider-level API tokens (every tenant).</summary>
    public IReadOnlyList<ApiToken> ApiTokens { get; init; } = [];

    /// <summary>
    /// Reverse proxies whose X-Forwarded-For (the client) and X-Forwarded-Proto (https) are
    /// believed; from anyone else those headers are ignored. Read at start, like <see cref="Listen"/>.
    /// </summary>
    public IReadOnlyList<System.Net.IPNetwork> TrustedProxies { get; init; } = [];

    /// <summary>Plain HTTP on a non-loopback <see cref="Listen"/> was asked for explicitly.</summary>
    public bool AllowPlainHttp { get; init; }
}

/// <summary>The webmail's limits.</summary>
/// <param name="SendLimitPerHour">Messages one mailbox may send from the webmail in any hour (a sliding window).</param>
public sealed record WebmailSettings(int SendLimitPerHour);

public sealed record UserAccount(string User, string PasswordHash);

/// <summary>A status API token: a name for logs and the SHA-256 (lower-case hex) of its value.</summary>
public sealed record ApiToken(string Name, string Sha256);

public sealed record Tenant
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required IReadOnlyList<DomainPattern> Domains { get; init; }
    public required PrimaryServer Primary { get; init; }
    public required IReadOnlyList<Mailbox> Mailboxes { get; init; }
    public required IReadOnlyList<string> AlertEmails { get; init; }
    public Uri? AlertWebhook { get; init; }
    public required IReadOnlyList<UserAccount> DashboardUsers { get; init; }
    public long? StorageShare { get; init; }

    /// <summary>After the first arrival alert of an outage, at most one digest per interval.</summary>
    public TimeSpan AlertDigestInterval { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>API tokens limited to this tenant.</summary>
    public IReadOnlyList<ApiToken> ApiTokens { get; init; } = [];

    /// <summary>While the primary is up, RCPT gets 4xx "use the primary MX" (default on).</summary>
    public bool AcceptOnlyWhilePrimaryDown { get; init; } = true;

    public RecipientSettings Recipients { get; init; } = RecipientSettings.Static;

    /// <summary>How the webmail presents itself to this tenant's users.</summary>
    public TenantBranding? Branding { get; init; }

    /// <summary>The border's thresholds and block lists for this tenant's recipients.</summary>
    public FilteringSettings Filtering { get; init; } = FilteringSettings.Default;

    /// <summary>Fire drills (README "Fire drills"); null when the tenant has no drill address.</summary>
    public DrillSettings? Drill { get; init; }

    /// <summary>The branding, or the defaults made from the tenant's name.</summary>
    public TenantBranding Brand => Branding ?? TenantBranding.Default(Name);

    /// <summary>True when <paramref name="domain"/> (lower case, no trailing dot) is one of this tenant's.</summary>
    public bool ServesDomain(string domain) => Domains.Any(d => d.Matches(domain));
}

/// <summary>
/// The webmail's look for one tenant: the name users know, a logo (https URL) and two colours
/// (#rrggbb): the bar and buttons, and the page's background.
/// </summary>
public sealed record TenantBranding(string Name, Uri? LogoUrl, string PrimaryColor, string BackgroundColor)
{
    public const string DefaultPrimary = "#1f4e79";
    public const string DefaultBackground = "#f5f7fa";

    public static TenantBranding Default(string name) => new(name, null, DefaultPrimary, DefaultBackground);
}

public enum TlsPolicy
{
    /// <summary>Never STARTTLS (a primary with a broken TLS stack).</summary>
    None,
    /// <summary>STARTTLS when offered, certificate not checked (RFC 7435 opportunistic security).</summary>
    Opportunistic,
    /// <summary>STARTTLS is mandatory; the certificate is not checked.</summary>
    Require,
    /// <summary>STARTTLS is mandatory and the certificate must verify for the host name.</summary>
    Verify,
}

public sealed record PrimaryServer(
    IReadOnlyList<HostPort> Hosts,
    TlsPolicy Tls,
    string? ProbeRecipient,
    string ProbeSender,
    int Connections,
    double MaxMessagesPerSecond);

public sealed record Mailbox(string Address, string? PasswordHash, long? Quota)
{
    public string LocalPart => Address[..Address.LastIndexOf('@')];
    public string Domain => Address[(Address.LastIndexOf('@') + 1)..];
}

/// <summary>
/// A tenant's fire drill: <paramref name="Address"/> is a mailbox the primary has;
/// <paramref name="Every"/> is the schedule (zero: only on demand); each step of a drill waits at
/// most <paramref name="Timeout"/>.
/// </summary>
public sealed record DrillSettings(string Address, TimeSpan Every, TimeSpan Timeout)
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(120);
}
