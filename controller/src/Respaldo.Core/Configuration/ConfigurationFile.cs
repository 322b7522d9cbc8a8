using System.Text.Json.Serialization;

namespace Respaldo.Configuration;

// Note: these types mirror /etc/respaldo/respaldo.json one to one and carry no logic.
// Every member is nullable so that a missing field reaches ConfigurationValidator,
// which names it in its error, instead of surfacing as a serializer exception.
// The rest of the program never sees them: it reads the validated RespaldoSettings.

/// <summary>The whole configuration file as written by the admin.</summary>
public sealed class ConfigurationFile
{
    public string? Hostname { get; set; }
    public string? StateDirectory { get; set; }
    public string? MailUser { get; set; }
    public string? DaemonUser { get; set; }
    public SizeValue? MessageSizeLimit { get; set; }
    public StorageSection? Storage { get; set; }
    public ListenSection? Listen { get; set; }
    public PostfixSection? Postfix { get; set; }
    public DovecotSection? Dovecot { get; set; }
    public WebSection? Web { get; set; }
    public WebmailSection? Webmail { get; set; }
    public ControllerSection? Controller { get; set; }
    public IntakeSection? Intake { get; set; }
    public DnsSection? Dns { get; set; }
    public FilterSection? Filter { get; set; }
    public JournalSection? Journal { get; set; }
    public List<TenantSection?>? Tenants { get; set; }
}

/// <summary>The journal's retention.</summary>
public sealed class JournalSection
{
    /// <summary>Days that probes, arrivals, hand-overs, verdicts, settled alerts and resolved holds are kept (default 400).</summary>
    public int? KeepDays { get; set; }
}

/// <summary>Where the border's DNS questions go (rspamd's SPF/DKIM/DMARC/DNSBL lookups).</summary>
public sealed class DnsSection
{
    /// <summary>"host" or "host:port" of recursive resolvers; none means the system's (/etc/resolv.conf).</summary>
    public List<string?>? Resolvers { get; set; }
}

/// <summary>The border's content checks: rspamd as Postfix's milter.</summary>
public sealed class FilterSection
{
    /// <summary>Off only for a lab or test that compares with a plain relay; default on.</summary>
    public bool? Enabled { get; set; }
    /// <summary>The loopback address of rspamd's milter (proxy) worker.</summary>
    public string? Milter { get; set; }
    /// <summary>rspamd's own working directory (its database and pid files).</summary>
    public string? WorkDirectory { get; set; }
    /// <summary>rspamd's log file; none logs to the console (journald under systemd).</summary>
    public string? LogFile { get; set; }
    /// <summary>The DKIM selector of the ARC key (its TXT record: SELECTOR._domainkey.ARCDOMAIN).</summary>
    public string? ArcSelector { get; set; }
    /// <summary>The signing domain (d=) of the ARC set; default the backup's host name.</summary>
    public string? ArcDomain { get; set; }
    /// <summary>How long Postfix waits for rspamd's verdict before it defers (4xx).</summary>
    public double? TimeoutSeconds { get; set; }
    /// <summary>A loopback address for an HTTP scan worker (rspamc, the tests); none by default.</summary>
    public string? ScanListen { get; set; }
    /// <summary>rspamd's host-name heuristics (hfilter); off only where Postfix cannot resolve client names (a lab).</summary>
    public bool? HostnameChecks { get; set; }
}

/// <summary>A DNS list for postscreen: a zone and its weight (negative: an allow list, DNSWL).</summary>
public sealed class DnsListSection
{
    public string? Zone { get; set; }
    public int? Weight { get; set; }
}

/// <summary>A tenant's verdict thresholds at the border.</summary>
public sealed class FilteringSection
{
    /// <summary>rspamd score at or above which mail is refused (5xx) at the end of data.</summary>
    public double? RejectScore { get; set; }
    /// <summary>rspamd score at or above which mail is deferred (4xx), below the reject score.</summary>
    public double? DeferScore { get; set; }
    /// <summary>Refuse mail that fails the sender domain's DMARC p=reject policy (default true).</summary>
    public bool? HonourDmarcReject { get; set; }
    /// <summary>DNS block lists (zones) whose listing of the client refuses its mail for this tenant.</summary>
    public List<string?>? Dnsbl { get; set; }
}

/// <summary>The SMTP front door: the policy service Postfix consults, and inbound STARTTLS.</summary>
public sealed class IntakeSection
{
    /// <summary>The unix socket of the controller's policy service (Postfix check_policy_service).</summary>
    public string? PolicySocket { get; set; }
    /// <summary>PEM certificate (chain) Postfix offers with STARTTLS; none means no STARTTLS.</summary>
    public string? CertificateFile { get; set; }
    public string? KeyFile { get; set; }
    /// <summary>postscreen's weighted DNS lists (DNSBL, or DNSWL with a negative weight); none by default.</summary>
    public List<DnsListSection?>? Dnsbl { get; set; }
    /// <summary>The combined weight at which postscreen refuses a client (default 3).</summary>
    public int? DnsblThreshold { get; set; }
    /// <summary>How long postscreen waits for a client that talks before its turn (default 6 s).</summary>
    public double? PregreetWaitSeconds { get; set; }
    /// <summary>"haproxy" when a load balancer in front speaks the PROXY protocol to port 25.</summary>
    public string? ProxyProtocol { get; set; }
    /// <summary>The addresses the world reaches this backup's port 25 at (what its MX name must resolve to); for the set-up check.</summary>
    public List<string?>? PublicAddresses { get; set; }
}

/// <summary>The pace of the three steps; every value has a sensible default.</summary>
public sealed class ControllerSection
{
    /// <summary>First probe interval while mail waits and the primary is down.</summary>
    public double? ProbeIntervalSeconds { get; set; }
    /// <summary>Ceiling of the probe interval during a long outage.</summary>
    public double? ProbeIntervalMaxSeconds { get; set; }
    /// <summary>Full rescan of every maildir, the safety net under inotify.</summary>
    public double? RescanIntervalSeconds { get; set; }
    /// <summary>Timeout for each SMTP command's reply (connect, greeting, EHLO, MAIL, RCPT, DATA).</summary>
    public double? CommandTimeoutSeconds { get; set; }
    /// <summary>Timeout for the reply to the end of a message's data.</summary>
    public double? DataTimeoutSeconds { get; set; }
    /// <summary>Longest wait before a message the primary deferred (4xx) is tried again.</summary>
    public double? RetryMaxSeconds { get; set; }
    /// <summary>Probe interval while nothing waits, for tenants that accept only while their primary is down.</summary>
    public double? IdleProbeIntervalSeconds { get; set; }
    /// <summary>Consecutive failed probes before the front door considers a primary down.</summary>
    public int? DownAfterFailures { get; set; }
    /// <summary>How long a primary must answer every probe before the front door considers it up again.</summary>
    public double? UpAfterSeconds { get; set; }
    /// <summary>Timeout of each command of a recipient callout to the primary.</summary>
    public double? CalloutTimeoutSeconds { get; set; }
    /// <summary>Recipient callouts one SMTP client may cause per minute (a dictionary attack's budget).</summary>
    public int? CalloutsPerClientPerMinute { get; set; }
    /// <summary>The same per hour.</summary>
    public int? CalloutsPerClientPerHour { get; set; }
    /// <summary>The slowest a primary may take a message's data, per second ("10KiB"); a message's deadline grows with its size at this rate.</summary>
    public SizeValue? MinimumDataRate { get; set; }
    /// <summary>How often the set-up check runs by itself (the first run shortly after start); 0: only on demand.</summary>
    public double? SetupCheckIntervalSeconds { get; set; }
    /// <summary>Hand-over connections open at once on the node, all tenants together; beyond, a tenant's connection waits its turn.</summary>
    public int? MaxConnections { get; set; }
}

public sealed class StorageSection
{
    /// <summary>Space all backups together may use.</summary>
    public SizeValue? Allocation { get; set; }
    /// <summary>Free space the disk must keep; below it new mail is deferred.</summary>
    public SizeValue? MinimumFree { get; set; }
}

public sealed class ListenSection
{
    public List<string?>? Smtp { get; set; }
    public string? Lmtp { get; set; }
    public string? Imap { get; set; }
    /// <summary>Loopback-only authenticated submission (alerts, webmail) into the backup's Postfix.</summary>
    public string? Submission { get; set; }
}

public sealed class PostfixSection
{
    public string? QueueDirectory { get; set; }
    public string? DataDirectory { get; set; }
    /// <summary>Postfix's own log file (maillog_file); null logs to syslog.</summary>
    public string? LogFile { get; set; }
    public string? InetProtocols { get; set; }
    /// <summary>Lab and offline machines: never ask DNS (no resolver there).</summary>
    public bool? DisableDns { get; set; }
    /// <summary>Next hop for mail leaving the backup (alerts, bounces): "[host]:port"; none means DNS MX.</summary>
    public string? RelayHost { get; set; }
}

public sealed class DovecotSection
{
    public string? BaseDirectory { get; set; }
    public string? StateDirectory { get; set; }
    public string? LogFile { get; set; }
}

public sealed class WebSection
{
    public List<string?>? Listen { get; set; }
    public string? CertificateFile { get; set; }
    public string? KeyFile { get; set; }
    public List<UserSection?>? Admins { get; set; }
    /// <summary>Idle minutes before a dashboard session expires.</summary>
    public double? SessionMinutes { get; set; }
    /// <summary>Provider-level tokens for the JSON status API (see every tenant).</summary>
    public List<ApiTokenSection?>? ApiTokens { get; set; }
    /// <summary>Reverse proxies (addresses or networks) whose X-Forwarded-For and X-Forwarded-Proto are believed.</summary>
    public List<string?>? TrustedProxies { get; set; }
    /// <summary>Serve plain HTTP on a non-loopback web.listen without a certificate or a trusted proxy (refused otherwise).</summary>
    public bool? AllowPlainHttp { get; set; }
}

/// <summary>The webmail's own limits.</summary>
public sealed class WebmailSection
{
    /// <summary>Messages one mailbox may send from the webmail in any hour.</summary>
    public int? SendLimitPerHour { get; set; }
}

/// <summary>A token for the JSON status API: its name and the SHA-256 (hex) of its value; the value itself is never stored.</summary>
public sealed class ApiTokenSection
{
    public string? Name { get; set; }
    public string? Sha256 { get; set; }
}

public sealed class UserSection
{
    public string? User { get; set; }
    public string? PasswordHash { get; set; }
}

public sealed class TenantSection
{
    public string? Id { get; set; }
    public string? Name { get; set; }
    public List<string?>? Domains { get; set; }
    public PrimarySection? Primary { get; set; }
    public List<MailboxSection?>? Mailboxes { get; set; }
    public AlertsSection? Alerts { get; set; }
    public List<UserSection?>? DashboardUsers { get; set; }
    /// <summary>Tokens for the JSON status API limited to this tenant.</summary>
    public List<ApiTokenSection?>? ApiTokens { get; set; }
    /// <summary>This tenant's share of the storage allocation.</summary>
    public SizeValue? StorageShare { get; set; }
    /// <summary>Answer RCPT with 4xx "use the primary" while the primary is up (default true).</summary>
    public bool? AcceptOnlyWhilePrimaryDown { get; set; }
    public RecipientsSection? Recipients { get; set; }
    /// <summary>The webmail's name, logo and colours for this tenant.</summary>
    public BrandingSection? Branding { get; set; }
    /// <summary>The border's thresholds for this tenant's recipients.</summary>
    public FilteringSection? Filtering { get; set; }
    /// <summary>Fire drills: a test message through the whole path to the primary (README "Fire drills").</summary>
    public DrillSection? Drill { get; set; }
}

/// <summary>A tenant's fire drill: the mailbox it goes to, how often (off unless given), how long to wait.</summary>
public sealed class DrillSection
{
    /// <summary>A mailbox of the tenant that the primary has (in one of the tenant's domains).</summary>
    public string? Address { get; set; }
    /// <summary>Seconds between scheduled drills; absent or 0: only on demand.</summary>
    public double? EverySeconds { get; set; }
    /// <summary>How long a drill waits for each step (default 120 s).</summary>
    public double? TimeoutSeconds { get; set; }
}

public sealed class BrandingSection
{
    /// <summary>The name shown in the webmail (default: the tenant's name).</summary>
    public string? Name { get; set; }
    /// <summary>An https:// URL of the logo.</summary>
    public string? LogoUrl { get; set; }
    /// <summary>#rrggbb of the top bar and buttons.</summary>
    public string? PrimaryColor { get; set; }
    /// <summary>#rrggbb of the page background.</summary>
    public string? BackgroundColor { get; set; }
}

/// <summary>Valid recipients besides the listed mailboxes: learned from the primary, or from a file the admin syncs.</summary>
public sealed class RecipientsSection
{
    /// <summary>Verify unknown recipients with an SMTP callout to the primary while it is up, and cache the answers.</summary>
    public bool? Learn { get; set; }
    /// <summary>A file of valid addresses, one per line, re-read when it changes.</summary>
    public string? File { get; set; }
    public double? PositiveCacheDays { get; set; }
    public double? NegativeCacheHours { get; set; }
}

public sealed class PrimarySection
{
    public List<string?>? Hosts { get; set; }
    public string? Tls { get; set; }
    /// <summary>A known address the probe offers in RCPT TO; none means EHLO only.</summary>
    public string? ProbeRecipient { get; set; }
    /// <summary>MAIL FROM of the probe; empty (the default) is the null sender, as in address verification.</summary>
    public string? ProbeSender { get; set; }
    /// <summary>Connections to the primary at once during a hand-over.</summary>
    public int? Connections { get; set; }
    /// <summary>Cap on messages handed over per second; 0 or absent means no cap.</summary>
    public double? MaxMessagesPerSecond { get; set; }
}

public sealed class MailboxSection
{
    public string? Address { get; set; }
    public string? PasswordHash { get; set; }
    public SizeValue? Quota { get; set; }
}

public sealed class AlertsSection
{
    public List<string?>? Emails { get; set; }
    public string? Webhook { get; set; }
    /// <summary>After the first arrival of an outage, at most one digest per this many seconds.</summary>
    public double? DigestIntervalSeconds { get; set; }
}

/// <summary>
/// A size as written in the file: a number of bytes or a string such as "50MB" or "2GiB".
/// Parsing is deferred to the validator so that a bad value is reported with its path.
/// </summary>
[JsonConverter(typeof(SizeValueJsonConverter))]
public sealed record SizeValue(string Text);
