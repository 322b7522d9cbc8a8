using System.Globalization;
using Respaldo.Configuration;

namespace Respaldo.Templates;

// Note: what the templates may see, and nothing else. Scriban renames members to
// snake_case (MessageSizeLimit -> message_size_limit); keep names plain and stable,
// they are the templates' vocabulary.

public sealed record TemplateModel(
    string Header,
    string Hostname,
    string StateDirectory,
    string MaildirRoot,
    string MailUser,
    long MessageSizeLimit,
    bool AnyQuota,
    PostfixModel Postfix,
    DovecotModel Dovecot,
    ListenModel Listen,
    IReadOnlyList<TenantModel> Tenants,
    IntakeModel Intake,
    bool AnyDynamicRecipients,
    string DynamicUsersFile)
{
    /// <summary>The controller's own submission login (alerts, bounces).</summary>
    public required ServiceAccountModel ServiceAccount { get; init; }

    /// <summary>The border: postscreen on port 25, rspamd as the milter.</summary>
    public required BorderModel Border { get; init; }

    public static TemplateModel From(RespaldoSettings s, string outputDirectory, string header)
    {
        string Host(HostPort e) => e.Host;
        return new TemplateModel(
            header,
            s.Hostname,
            s.StateDirectory,
            s.MaildirRoot,
            s.MailUser,
            s.MessageSizeLimit,
            s.Tenants.Any(t => t.Mailboxes.Any(m => m.Quota is not null)),
            new PostfixModel(
                Path.Combine(outputDirectory, "postfix"),
                s.Postfix.QueueDirectory,
                s.Postfix.DataDirectory,
                s.Postfix.LogFile,
                s.Postfix.LogFile is null ? null : Path.GetDirectoryName(s.Postfix.LogFile),
                s.Postfix.InetProtocols,
                s.Postfix.DisableDns)
            { RelayHost = s.Postfix.RelayHost },
            new DovecotModel(
                Path.Combine(outputDirectory, "dovecot"),
                s.Dovecot.BaseDirectory,
                s.Dovecot.StateDirectory,
                s.Dovecot.LogFile),
            new ListenModel(
                s.Listen.Smtp.Select(e => e.IsWildcard ? e.Port.ToString(CultureInfo.InvariantCulture) : e.ToString()).ToList(),
                Host(s.Listen.Imap),
                s.Listen.Imap.Port,
                Host(s.Listen.Imap))
            { Submission = s.Listen.Submission.ToString() },
            s.Tenants.Select(t => new TenantModel(
                t.Id,
                t.Name,
                t.Domains.Select(d => new DomainModel(d.ToString(), d.IncludesSubdomains, Regexp(d), AddressRegexp(d))).ToList(),
                t.Mailboxes.Select(m => new MailboxModel(m.Address, m.PasswordHash, m.Quota)).ToList(),
                t.Recipients.IsDynamic)).ToList(),
            new IntakeModel(s.Intake.PolicySocket, s.Intake.CertificateFile, s.Intake.KeyFile),
            s.Tenants.Any(t => t.Recipients.IsDynamic),
            s.DynamicUsersPath)
        {
            ServiceAccount = new ServiceAccountModel(Security.ServiceCredential.User, Security.ServiceCredential.PasswdPath(s), Security.ServiceCredential.SenderAddress(s)),
            Border = BorderModel.From(s, outputDirectory),
        };
    }

    /// <summary>A regexp(5) pattern for every address of a domain: one '@', a local part, then the domain (or a subdomain).</summary>
    private static string AddressRegexp(DomainPattern d)
    {
        string escaped = d.Domain.Replace(".", @"\.", StringComparison.Ordinal);
        return d.IncludesSubdomains ? $"/^[^@]+@[^@]+\\.{escaped}$/" : $"/^[^@]+@{escaped}$/";
    }

    /// <summary>A Postfix regexp(5) pattern: the apex exactly, or every name ending in ".domain".</summary>
    private static string Regexp(DomainPattern d)
    {
        string escaped = d.Domain.Replace(".", @"\.", StringComparison.Ordinal);
        return d.IncludesSubdomains ? $"/\\.{escaped}$/" : $"/^{escaped}$/";
    }
}

public sealed record PostfixModel(
    string ConfigDirectory, string QueueDirectory, string DataDirectory, string? LogFile, string? LogDirectory, string InetProtocols, bool DisableDns)
{
    public string? RelayHost { get; init; }
}

public sealed record DovecotModel(string ConfigDirectory, string BaseDirectory, string StateDirectory, string? LogFile)
{
    /// <summary>Dovecot's SASL socket for Postfix's submission service.</summary>
    public string AuthSocket => Path.Combine(BaseDirectory, "auth-postfix");

    /// <summary>Dovecot's LMTP socket for Postfix's lmtp client, owned by the postfix user, mode 0600 (no TCP listener).</summary>
    public string LmtpSocketName { get; } = "lmtp-postfix";

    public string LmtpSocket => Path.Combine(BaseDirectory, LmtpSocketName);
}

public sealed record ListenModel(
    IReadOnlyList<string> Smtp, string ImapHost, int ImapPort, string DovecotAddresses)
{
    public required string Submission { get; init; }
}

/// <summary>The controller's submission login: its name, Dovecot's hash file, the one address (besides &lt;&gt;) it may send as.</summary>
public sealed record ServiceAccountModel(string User, string PasswdFile, string Address);

public sealed record TenantModel(string Id, string Name, IReadOnlyList<DomainModel> Domains, IReadOnlyList<MailboxModel> Mailboxes, bool DynamicRecipients);

public sealed record DomainModel(string Pattern, bool IncludesSubdomains, string Regexp, string AddressRegexp);

public sealed record IntakeModel(string PolicySocket, string? CertificateFile, string? KeyFile);

public sealed record MailboxModel(string Address, string? PasswordHash, long? Quota);

/// <summary>
/// What the border's templates see: postscreen's lists and waits, rspamd's addresses, files and
/// resolvers, and each tenant's verdict thresholds (an rspamd settings rule per tenant).
/// </summary>
public sealed record BorderModel(
    bool FilterEnabled,
    string Milter,
    string MilterHost,
    int MilterPort,
    string RspamdConfigDirectory,
    string WorkDirectory,
    string? LogFile,
    string MilterTimeout,
    IReadOnlyList<string> Resolvers,
    IReadOnlyList<string> PostscreenSites,
    int PostscreenThreshold,
    int PregreetWaitSeconds,
    string? ProxyProtocol,
    string AuthservId,
    string ArcSelector,
    string ArcDomain,
    string ArcKeyPath,
    IReadOnlyList<BorderTenantModel> Tenants,
    IReadOnlyList<BorderDnsblModel> Dnsbl)
{
    /// <summary>The HTTP scan worker's address (rspamc), or null.</summary>
    public string? ScanListen { get; init; }

    public bool HostnameChecks { get; init; } = true;

    /// <summary>The command line systemd and the lab start rspamd with (its local.d/override.d are ours).</summary>
    public string Vars => $"--var=LOCAL_CONFDIR={RspamdConfigDirectory} --var=DBDIR={WorkDirectory} --var=RUNDIR={WorkDirectory} --var=LOGDIR={WorkDirectory}";

    public static BorderModel From(RespaldoSettings s, string outputDirectory)
    {
        // Note: one rspamd rbl rule per zone named by any tenant; each tenant's settings rule
        // disables the zones it did not ask for, so a listing refuses only where it was wanted.
        var zones = s.Tenants.SelectMany(t => t.Filtering.Dnsbl).Distinct(StringComparer.Ordinal).ToList();
        var dnsbl = zones.Select((z, i) => new BorderDnsblModel(z, $"RESPALDO_DNSBL_{i + 1}")).ToList();
        string F(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
        return new BorderModel(
            s.Filter.Enabled,
            $"inet:{s.Filter.Milter}",
            s.Filter.Milter.Host,
            s.Filter.Milter.Port,
            Path.Combine(outputDirectory, "rspamd"),
            s.Filter.WorkDirectory,
            s.Filter.LogFile,
            $"{(int)s.Filter.Timeout.TotalSeconds}s",
            s.Dns.Resolvers.Select(r => r.ToString()).ToList(),
            s.Intake.Dnsbl.Select(d => d.ToString()).ToList(),
            s.Intake.DnsblThreshold,
            (int)s.Intake.PregreetWait.TotalSeconds,
            s.Intake.ProxyProtocol,
            s.Hostname,
            s.Filter.ArcSelector,
            s.Filter.ArcDomain,
            s.ArcKeyPath,
            s.Tenants.Select(t => new BorderTenantModel(
                t.Id,
                t.Domains.Select(d => d.IncludesSubdomains
                    ? $"/@[^@]+\\.{System.Text.RegularExpressions.Regex.Escape(d.Domain)}$/i"
                    : $"@{d.Domain}").ToList(),
                F(t.Filtering.RejectScore),
                F(t.Filtering.DeferScore),
                t.Filtering.HonourDmarcReject,
                dnsbl.Where(z => !t.Filtering.Dnsbl.Contains(z.Zone)).Select(z => z.Symbol).ToList())).ToList(),
            dnsbl)
        {
            ScanListen = s.Filter.ScanListen?.ToString(),
            HostnameChecks = s.Filter.HostnameChecks,
        };
    }
}

/// <summary>One tenant's rspamd settings rule: its recipients' domains, thresholds, and the DNSBL symbols it does not use.</summary>
public sealed record BorderTenantModel(
    string Id, IReadOnlyList<string> Recipients, string RejectScore, string DeferScore, bool HonourDmarcReject, IReadOnlyList<string> DisabledDnsbl);

/// <summary>An rspamd rbl rule: the zone and the symbol a listing raises.</summary>
public sealed record BorderDnsblModel(string Zone, string Symbol);
