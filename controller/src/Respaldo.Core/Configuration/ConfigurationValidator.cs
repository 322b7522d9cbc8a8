using System.Text.RegularExpressions;

namespace Respaldo.Configuration;

/// <summary>
/// Turns the file as written into <see cref="RespaldoSettings"/>, or into the full list of
/// what is wrong with it. It reports every error it can find in one pass (an admin fixing a
/// file should not have to run the check ten times) and names each by its JSON path.
/// Defaults live here and only here; README "Configuration" lists them.
/// </summary>
public static partial class ConfigurationValidator
{
    public const long DefaultMessageSizeLimit = 50L * 1024 * 1024;

    /// <summary>
    /// Messages a mailbox may send from the webmail per hour: plenty for a person writing
    /// during an outage, little for a stolen password used to spam.
    /// </summary>
    public const int DefaultSendLimitPerHour = 30;
    public const long DefaultMinimumFree = 1L * 1024 * 1024 * 1024;
    public const int SmtpPort = 25;

    [GeneratedRegex(@"\A[a-z0-9][a-z0-9-]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex TenantId();

    [GeneratedRegex(@"\A[A-Za-z0-9][A-Za-z0-9._-]{0,63}\z", RegexOptions.CultureInvariant)]
    private static partial Regex UserName();

    [GeneratedRegex(@"\A\{BLF-CRYPT\}\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}\z", RegexOptions.CultureInvariant)]
    private static partial Regex BlowfishHash();

    public static (RespaldoSettings? Settings, IReadOnlyList<ConfigurationError> Errors) Validate(
        ConfigurationFile file, string sourcePath)
    {
        var errors = new List<ConfigurationError>();
        void Error(string path, string message) => errors.Add(new ConfigurationError(path, message));

        string hostname = "";
        if (string.IsNullOrWhiteSpace(file.Hostname))
        {
            Error("hostname", "required: the backup's own host name, as in the MX record (mail-backup.example.com)");
        }
        else if (!HostName.IsValid(file.Hostname.Trim()))
        {
            Error("hostname", $"\"{file.Hostname}\" is not a valid host name");
        }
        else
        {
            hostname = file.Hostname.Trim().ToLowerInvariant();
        }

        string stateDirectory = AbsolutePath(file.StateDirectory, "/var/lib/respaldo", "stateDirectory", Error);
        string mailUser = string.IsNullOrWhiteSpace(file.MailUser) ? "respaldo-mail" : file.MailUser.Trim();
        if (!UserName().IsMatch(mailUser) || mailUser == "root")
        {
            Error("mailUser", $"\"{mailUser}\" must be the name of an unprivileged system user (not root)");
        }
        string daemonUser = string.IsNullOrWhiteSpace(file.DaemonUser) ? "respaldo" : file.DaemonUser.Trim();
        if (!UserName().IsMatch(daemonUser) || daemonUser == "root")
        {
            Error("daemonUser", $"\"{daemonUser}\" must be the name of an unprivileged system user (not root)");
        }
        else if (daemonUser == mailUser)
        {
            // Note: every Dovecot mail process runs as the mail user; the daemon's journal, web
            // session keys and submission password must be out of its reach (README "One user
            // for mail, another for the daemon").
            Error("mailUser", $"\"{mailUser}\" is also daemonUser: Dovecot's mail processes must not run as the daemon's user");
        }

        long messageSizeLimit = Size(file.MessageSizeLimit, DefaultMessageSizeLimit, "messageSizeLimit", Error);
        if (messageSizeLimit is > 0 and < 64 * 1024)
        {
            Error("messageSizeLimit", "must be at least 64KiB (RFC 5321 §4.5.3.1.7 asks for 64k)");
        }

        StorageSettings storage = ValidateStorage(file.Storage, Error);
        ListenSettings listen = ValidateListen(file.Listen, Error);
        PostfixSettings postfix = ValidatePostfix(file.Postfix, Error);
        DovecotSettings dovecot = ValidateDovecot(file.Dovecot, Error);
        WebSettings web = ValidateWeb(file.Web, Error);
        WebmailSettings webmail = ValidateWebmail(file.Webmail, Error);
        ControllerSettings controller = ValidateController(file.Controller, Error);
        IntakeSettings intake = ValidatePostscreen(file.Intake, ValidateIntake(file.Intake, Error), Error);
        DnsSettings dns = ValidateDns(file.Dns, Error);
        FilterSettings filter = ValidateFilter(file.Filter, hostname, Error);
        JournalSettings journal = ValidateJournal(file.Journal, Error);

        var tenants = new List<Tenant>();
        if (file.Tenants is null || file.Tenants.Count == 0)
        {
            Error("tenants", "at least one tenant is required");
        }
        else
        {
            for (int i = 0; i < file.Tenants.Count; i++)
            {
                Tenant? tenant = ValidateTenant(file.Tenants[i], $"tenants[{i}]", storage, Error);
                if (tenant is not null)
                {
                    tenants.Add(tenant);
                }
            }
            CheckAcrossTenants(file.Tenants, tenants, web, Error);
        }

        if (errors.Count > 0)
        {
            return (null, errors);
        }
        var settings = new RespaldoSettings
        {
            SourcePath = sourcePath,
            Hostname = hostname,
            StateDirectory = stateDirectory,
            MailUser = mailUser,
            DaemonUser = daemonUser,
            MessageSizeLimit = messageSizeLimit,
            Storage = storage,
            Listen = listen,
            Postfix = postfix,
            Dovecot = dovecot,
            Web = web,
            Webmail = webmail,
            Controller = controller,
            Intake = intake,
            Dns = dns,
            Filter = filter,
            Journal = journal,
            Tenants = tenants,
        };
        return (settings, errors);
    }

    private static StorageSettings ValidateStorage(StorageSection? section, Action<string, string> error)
    {
        if (section?.Allocation is null)
        {
            error("storage.allocation", "required: the space all backups together may use (\"20GB\")");
        }
        long allocation = Size(section?.Allocation, 0, "storage.allocation", error);
        long minimumFree = Size(section?.MinimumFree, DefaultMinimumFree, "storage.minimumFree", error);
        return new StorageSettings(allocation, minimumFree);
    }

    private static ListenSettings ValidateListen(ListenSection? section, Action<string, string> error)
    {
        var smtp = new List<HostPort>();
        if (section?.Smtp is null)
        {
            smtp.Add(new HostPort("*", SmtpPort));
        }
        else if (section.Smtp.Count == 0)
        {
            error("listen.smtp", "at least one address is required (\"*:25\" listens on every address)");
        }
        else
        {
            for (int i = 0; i < section.Smtp.Count; i++)
            {
                if (HostPort.TryParse(section.Smtp[i], SmtpPort, out HostPort e, out string message))
                {
                    smtp.Add(e);
                }
                else
                {
                    error($"listen.smtp[{i}]", message);
                }
            }
        }
        if (section?.Lmtp is not null)
        {
            // Note: Postfix reaches Dovecot's LMTP over a unix socket only the postfix user may
            // open; a TCP port let any local process deliver past the border (README, Security).
            error("listen.lmtp", "is no longer a setting: Postfix delivers to Dovecot over a unix socket (dovecot.baseDirectory/lmtp-postfix), no LMTP port listens; remove it");
        }
        HostPort imap = LoopbackEndpoint(section?.Imap, "127.0.0.1:143", "listen.imap", error);
        HostPort submission = LoopbackEndpoint(section?.Submission, "127.0.0.1:587", "listen.submission", error);
        return new ListenSettings(smtp, imap) { Submission = submission };
    }

    /// <summary>IMAP and submission carry plain logins: loopback only.</summary>
    private static HostPort LoopbackEndpoint(string? text, string fallback, string path, Action<string, string> error)
    {
        if (!HostPort.TryParse(text ?? fallback, null, out HostPort e, out string message))
        {
            error(path, message);
            return new HostPort("127.0.0.1", 1);
        }
        if (!IsLoopback(e))
        {
            error(path, $"\"{text}\": must be a loopback address (127.0.0.0/8 or ::1); it is never exposed");
        }
        return e;
    }

    private static PostfixSettings ValidatePostfix(PostfixSection? section, Action<string, string> error)
    {
        string protocols = section?.InetProtocols?.Trim() ?? "all";
        if (protocols is not ("all" or "ipv4" or "ipv6" or "ipv4, ipv6"))
        {
            error("postfix.inetProtocols", $"\"{protocols}\" must be all, ipv4 or ipv6");
        }
        string? relayHost = null;
        if (section?.RelayHost is { } relay)
        {
            // Note: Postfix's relayhost syntax: "[host]:port" skips the MX lookup (the lab, a
            // smarthost); "host:port" looks up MX records of host.
            string inner = relay.StartsWith('[') ? relay.Replace("[", "", StringComparison.Ordinal).Replace("]", "", StringComparison.Ordinal) : relay;
            if (!HostPort.TryParse(inner, SmtpPort, out HostPort hop, out string message) || hop.IsWildcard)
            {
                error("postfix.relayHost", hop.IsWildcard ? "\"*\" is not a host" : message);
            }
            else
            {
                relayHost = relay.Trim();
            }
        }
        return new PostfixSettings(
            AbsolutePath(section?.QueueDirectory, "/var/spool/postfix", "postfix.queueDirectory", error),
            AbsolutePath(section?.DataDirectory, "/var/lib/postfix", "postfix.dataDirectory", error),
            OptionalAbsolutePath(section?.LogFile, "postfix.logFile", error),
            protocols,
            section?.DisableDns ?? false)
        { RelayHost = relayHost };
    }

    private static DovecotSettings ValidateDovecot(DovecotSection? section, Action<string, string> error) =>
        new(
            AbsolutePath(section?.BaseDirectory, "/run/dovecot", "dovecot.baseDirectory", error),
            AbsolutePath(section?.StateDirectory, "/var/lib/dovecot", "dovecot.stateDirectory", error),
            OptionalAbsolutePath(section?.LogFile, "dovecot.logFile", error));

    private static WebmailSettings ValidateWebmail(WebmailSection? section, Action<string, string> error)
    {
        int limit = section?.SendLimitPerHour ?? DefaultSendLimitPerHour;
        if (limit is < 1 or > 10_000)
        {
            error("webmail.sendLimitPerHour", $"{limit} must be from 1 to 10000 messages per mailbox and hour");
        }
        return new WebmailSettings(limit);
    }

    private static WebSettings ValidateWeb(WebSection? section, Action<string, string> error)
    {
        var listen = new List<HostPort>();
        IReadOnlyList<string?> texts = section?.Listen ?? ["127.0.0.1:8080"];
        for (int i = 0; i < texts.Count; i++)
        {
            if (HostPort.TryParse(texts[i], null, out HostPort e, out string message))
            {
                listen.Add(e);
            }
            else
            {
                error($"web.listen[{i}]", message);
            }
        }
        string? cert = OptionalAbsolutePath(section?.CertificateFile, "web.certificateFile", error);
        string? key = OptionalAbsolutePath(section?.KeyFile, "web.keyFile", error);
        if ((cert is null) != (key is null))
        {
            error(cert is null ? "web.certificateFile" : "web.keyFile",
                "certificateFile and keyFile go together: give both to serve HTTPS, or neither");
        }
        IReadOnlyList<UserAccount> admins = Users(section?.Admins, "web.admins", error);
        TimeSpan session = TimeSpan.FromMinutes(30);
        if (section?.SessionMinutes is { } minutes)
        {
            if (double.IsNaN(minutes) || minutes < 1 || minutes > 7 * 24 * 60)
            {
                error("web.sessionMinutes", $"{minutes} must be from 1 to 10080 minutes");
            }
            else
            {
                session = TimeSpan.FromMinutes(minutes);
            }
        }
        IReadOnlyList<ApiToken> tokens = ApiTokens(section?.ApiTokens, "web.apiTokens", error);
        var proxies = new List<System.Net.IPNetwork>();
        IReadOnlyList<string?> proxyTexts = section?.TrustedProxies ?? [];
        for (int i = 0; i < proxyTexts.Count; i++)
        {
            if (TrustedProxy(proxyTexts[i]) is { } network)
            {
                proxies.Add(network);
            }
            else
            {
                error($"web.trustedProxies[{i}]", $"\"{proxyTexts[i]}\" must be an IP address (192.0.2.10, ::1) or a network (192.0.2.0/24)");
            }
        }
        bool allowPlain = section?.AllowPlainHttp ?? false;
        // Note: logins and session cookies must not cross a network in clear text. A non-loopback
        // endpoint needs TLS here (a certificate), TLS in front (a trusted reverse proxy that
        // terminates it), or the admin's explicit word (web.allowPlainHttp) that the network is safe.
        if (cert is null && proxies.Count == 0 && !allowPlain)
        {
            for (int i = 0; i < listen.Count; i++)
            {
                if (!IsLoopback(listen[i]))
                {
                    error($"web.listen[{i}]",
                        $"\"{listen[i]}\" would serve logins in plain HTTP beyond this host: give web.certificateFile and web.keyFile, "
                        + "or web.trustedProxies (a reverse proxy that terminates TLS), or set web.allowPlainHttp to true");
                }
            }
        }
        return new WebSettings(listen, cert, key, admins) { SessionTimeout = session, ApiTokens = tokens, TrustedProxies = proxies, AllowPlainHttp = allowPlain };
    }

    private static bool IsLoopback(HostPort e) =>
        e.Host == "localhost" || (System.Net.IPAddress.TryParse(e.Host, out System.Net.IPAddress? ip) && System.Net.IPAddress.IsLoopback(ip));

    /// <summary>An address (a network of one) or a network in CIDR form; null when it is neither.</summary>
    private static System.Net.IPNetwork? TrustedProxy(string? text)
    {
        string t = text?.Trim() ?? "";
        int slash = t.IndexOf('/', StringComparison.Ordinal);
        string addressText = slash < 0 ? t : t[..slash];
        // Note: IPAddress.TryParse also takes "10" (0.0.0.10) and scope ids; only the plain forms are meant.
        if (!System.Net.IPAddress.TryParse(addressText, out System.Net.IPAddress? address) || addressText.Contains('%', StringComparison.Ordinal)
            || (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? address.ToString() != addressText : !addressText.Contains(':', StringComparison.Ordinal)))
        {
            return null;
        }
        if (slash < 0)
        {
            return new System.Net.IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
        }
        // Note: a network with host bits set (192.0.2.1/24) is a typo, not a network.
        return System.Net.IPNetwork.TryParse(t, out System.Net.IPNetwork network) && network.BaseAddress.Equals(address) ? network : null;
    }

    private static ControllerSettings ValidateController(ControllerSection? section, Action<string, string> error)
    {
        ControllerSettings d = ControllerSettings.Default;
        TimeSpan Seconds(double? value, TimeSpan fallback, double min, double max, string name)
        {
            if (value is null)
            {
                return fallback;
            }
            if (double.IsNaN(value.Value) || value < min || value > max)
            {
                error($"controller.{name}", $"{value} must be from {min} to {max} seconds");
                return fallback;
            }
            return TimeSpan.FromSeconds(value.Value);
        }
        TimeSpan probe = Seconds(section?.ProbeIntervalSeconds, d.ProbeInterval, 0.1, 3600, "probeIntervalSeconds");
        TimeSpan probeMax = Seconds(section?.ProbeIntervalMaxSeconds, d.ProbeIntervalMax, 0.1, 86400, "probeIntervalMaxSeconds");
        if (probeMax < probe)
        {
            error("controller.probeIntervalMaxSeconds", "must not be less than probeIntervalSeconds");
        }
        int downAfter = section?.DownAfterFailures ?? d.DownAfterFailures;
        if (downAfter is < 1 or > 100)
        {
            error("controller.downAfterFailures", $"{downAfter} must be from 1 to 100");
            downAfter = d.DownAfterFailures;
        }
        int perMinute = section?.CalloutsPerClientPerMinute ?? d.CalloutsPerClientPerMinute;
        if (perMinute is < 1 or > 10_000)
        {
            error("controller.calloutsPerClientPerMinute", $"{perMinute} must be from 1 to 10000");
            perMinute = d.CalloutsPerClientPerMinute;
        }
        int perHour = section?.CalloutsPerClientPerHour ?? Math.Max(d.CalloutsPerClientPerHour, perMinute);
        if (perHour < perMinute || perHour > 100_000)
        {
            error("controller.calloutsPerClientPerHour", $"{perHour} must be from calloutsPerClientPerMinute ({perMinute}) to 100000");
            perHour = Math.Max(d.CalloutsPerClientPerHour, perMinute);
        }
        long rate = Size(section?.MinimumDataRate, d.MinimumDataRate, "controller.minimumDataRate", error);
        if (rate < 100)
        {
            // Note: the deadline of a message grows by its size divided by this: 0 would mean no deadline at all.
            error("controller.minimumDataRate", $"{rate} must be at least 100 (bytes per second)");
            rate = d.MinimumDataRate;
        }
        return new ControllerSettings(
            probe,
            probeMax,
            Seconds(section?.RescanIntervalSeconds, d.RescanInterval, 1, 86400, "rescanIntervalSeconds"),
            Seconds(section?.CommandTimeoutSeconds, d.CommandTimeout, 0.1, 600, "commandTimeoutSeconds"),
            Seconds(section?.DataTimeoutSeconds, d.DataTimeout, 0.1, 3600, "dataTimeoutSeconds"),
            Seconds(section?.RetryMaxSeconds, d.RetryMax, 1, 86400, "retryMaxSeconds"))
        {
            IdleProbeInterval = Seconds(section?.IdleProbeIntervalSeconds, d.IdleProbeInterval, 0.1, 86400, "idleProbeIntervalSeconds"),
            DownAfterFailures = downAfter,
            UpAfter = Seconds(section?.UpAfterSeconds, d.UpAfter, 0, 86400, "upAfterSeconds"),
            // Note: a callout runs while Postfix waits for the policy answer (smtpd_policy_service_timeout, 100 s).
            CalloutTimeout = Seconds(section?.CalloutTimeoutSeconds, d.CalloutTimeout, 0.1, 30, "calloutTimeoutSeconds"),
            CalloutsPerClientPerMinute = perMinute,
            CalloutsPerClientPerHour = perHour,
            MinimumDataRate = rate,
        };
    }

    private static JournalSettings ValidateJournal(JournalSection? section, Action<string, string> error)
    {
        int days = section?.KeepDays ?? (int)JournalSettings.Default.Keep.TotalDays;
        // Note: at least a week, so the dashboard's charts and the start-up reconciliation
        // (a delivered copy still on disk after a crash) always find the rows they need.
        if (days is < 7 or > 36500)
        {
            error("journal.keepDays", $"{days} must be from 7 to 36500");
            days = (int)JournalSettings.Default.Keep.TotalDays;
        }
        return new JournalSettings(TimeSpan.FromDays(days));
    }

    /// <summary>sun_path holds 108 bytes with the terminating NUL (unix(7)).</summary>
    private const int MaxSocketPath = 107;

    private static IntakeSettings ValidateIntake(IntakeSection? section, Action<string, string> error)
    {
        IntakeSettings d = IntakeSettings.Default;
        string socket = AbsolutePath(section?.PolicySocket, d.PolicySocket, "intake.policySocket", error);
        if (System.Text.Encoding.UTF8.GetByteCount(socket) > MaxSocketPath)
        {
            error("intake.policySocket", $"\"{socket}\" is longer than a unix socket path may be ({MaxSocketPath} bytes)");
        }
        else if (socket.Any(c => char.IsWhiteSpace(c) || c is ',' or '{' or '}'))
        {
            // Note: the path goes into main.cf's restriction list, where these characters separate items.
            error("intake.policySocket", $"\"{socket}\" must not contain blanks, ',' or braces");
        }
        string? cert = OptionalAbsolutePath(section?.CertificateFile, "intake.certificateFile", error);
        string? key = OptionalAbsolutePath(section?.KeyFile, "intake.keyFile", error);
        if ((cert is null) != (key is null))
        {
            error(cert is null ? "intake.certificateFile" : "intake.keyFile",
                "certificateFile and keyFile go together: give both to offer STARTTLS, or neither");
        }
        return new IntakeSettings(socket, cert, key);
    }

    private static RecipientSettings ValidateRecipients(RecipientsSection? section, string path, Action<string, string> error)
    {
        RecipientSettings d = RecipientSettings.Static;
        if (section is null)
        {
            return d;
        }
        string? file = OptionalAbsolutePath(section.File, $"{path}.file", error);
        TimeSpan positive = d.PositiveTtl;
        if (section.PositiveCacheDays is { } days)
        {
            if (double.IsNaN(days) || days is <= 0 or > 365)
            {
                error($"{path}.positiveCacheDays", $"{days} must be more than 0 and at most 365 days");
            }
            else
            {
                positive = TimeSpan.FromDays(days);
            }
        }
        TimeSpan negative = d.NegativeTtl;
        if (section.NegativeCacheHours is { } hours)
        {
            if (double.IsNaN(hours) || hours is < 0 or > 720)
            {
                error($"{path}.negativeCacheHours", $"{hours} must be from 0 (no negative cache) to 720 hours");
            }
            else
            {
                negative = TimeSpan.FromHours(hours);
            }
        }
        return new RecipientSettings(section.Learn ?? false, file, positive, negative);
    }

    private static Tenant? ValidateTenant(TenantSection? t, string path, StorageSettings storage, Action<string, string> error)
    {
        if (t is null)
        {
            error(path, "must be an object");
            return null;
        }
        bool failed = false;
        void Error(string p, string m)
        {
            failed = true;
            error(p, m);
        }

        string id = t.Id?.Trim() ?? "";
        if (id.Length == 0)
        {
            Error($"{path}.id", "required: a short name of lower-case letters, digits and '-' (\"suempresa\")");
        }
        else if (!TenantId().IsMatch(id))
        {
            Error($"{path}.id", $"\"{t.Id}\" may hold only lower-case letters, digits and '-', starting with a letter or digit");
        }
        string name = string.IsNullOrWhiteSpace(t.Name) ? id : t.Name.Trim();

        var domains = new List<DomainPattern>();
        if (t.Domains is null || t.Domains.Count == 0)
        {
            Error($"{path}.domains", "at least one domain is required (\"example.com\", \"*.example.com\")");
        }
        else
        {
            for (int i = 0; i < t.Domains.Count; i++)
            {
                if (!DomainPattern.TryParse(t.Domains[i], out DomainPattern d, out string message))
                {
                    Error($"{path}.domains[{i}]", message);
                }
                else if (domains.Contains(d))
                {
                    Error($"{path}.domains[{i}]", $"\"{d}\" is listed twice");
                }
                else
                {
                    domains.Add(d);
                }
            }
        }
        bool InDomains(string address) => domains.Any(d => d.Matches(MailAddress.DomainOf(address)));

        PrimaryServer primary = ValidatePrimary(t.Primary, $"{path}.primary", InDomains, Error);

        var mailboxes = new List<Mailbox>();
        if (t.Mailboxes is null || t.Mailboxes.Count == 0)
        {
            Error($"{path}.mailboxes", "at least one mailbox is required");
        }
        else
        {
            for (int i = 0; i < t.Mailboxes.Count; i++)
            {
                string p = $"{path}.mailboxes[{i}]";
                MailboxSection? m = t.Mailboxes[i];
                if (m is null)
                {
                    Error(p, "must be an object");
                    continue;
                }
                if (!MailAddress.TryNormalize(m.Address, out string address, out string message))
                {
                    Error($"{p}.address", message);
                    continue;
                }
                if (domains.Count > 0 && !InDomains(address))
                {
                    Error($"{p}.address", $"\"{address}\" is not in this tenant's domains ({string.Join(", ", domains)})");
                }
                if (mailboxes.Any(x => x.Address == address))
                {
                    Error($"{p}.address", $"\"{address}\" is listed twice");
                }
                string? hash = PasswordHash(m.PasswordHash, $"{p}.passwordHash", Error);
                long? quota = m.Quota is null ? null : Size(m.Quota, 0, $"{p}.quota", Error);
                if (quota is 0)
                {
                    Error($"{p}.quota", "must be more than 0; leave it out for no quota");
                }
                mailboxes.Add(new Mailbox(address, hash, quota));
            }
        }

        var alertEmails = new List<string>();
        Uri? webhook = null;
        if (t.Alerts?.Emails is { } emails)
        {
            for (int i = 0; i < emails.Count; i++)
            {
                string p = $"{path}.alerts.emails[{i}]";
                if (!MailAddress.TryNormalize(emails[i], out string address, out string message))
                {
                    Error(p, message);
                }
                else if (InDomains(address))
                {
                    // Note: the alert must reach someone while the primary is down; an address the
                    // primary itself receives for would wait in the very backup it is warning about.
                    Error(p, $"\"{address}\" is inside this tenant's own domains: alerts must go to an external address that does not depend on the primary");
                }
                else
                {
                    alertEmails.Add(address);
                }
            }
        }
        if (t.Alerts?.Webhook is { } hook)
        {
            if (!Uri.TryCreate(hook, UriKind.Absolute, out webhook) || webhook.Scheme is not ("http" or "https"))
            {
                Error($"{path}.alerts.webhook", $"\"{hook}\" must be an absolute http:// or https:// URL");
                webhook = null;
            }
        }

        IReadOnlyList<UserAccount> users = Users(t.DashboardUsers, $"{path}.dashboardUsers", Error);
        IReadOnlyList<ApiToken> tokens = ApiTokens(t.ApiTokens, $"{path}.apiTokens", Error);
        TimeSpan digest = TimeSpan.FromMinutes(15);
        if (t.Alerts?.DigestIntervalSeconds is { } digestSeconds)
        {
            if (double.IsNaN(digestSeconds) || digestSeconds < 1 || digestSeconds > 86400)
            {
                Error($"{path}.alerts.digestIntervalSeconds", $"{digestSeconds} must be from 1 to 86400 seconds");
            }
            else
            {
                digest = TimeSpan.FromSeconds(digestSeconds);
            }
        }
        long? share = null;
        if (t.StorageShare is not null)
        {
            share = Size(t.StorageShare, 0, $"{path}.storageShare", Error);
            if (storage.Allocation > 0 && share > storage.Allocation)
            {
                Error($"{path}.storageShare", $"{ByteSize.Format(share.Value)} is more than storage.allocation ({ByteSize.Format(storage.Allocation)})");
            }
        }

        RecipientSettings recipients = ValidateRecipients(t.Recipients, $"{path}.recipients", Error);
        TenantBranding? branding = ValidateBranding(t.Branding, name, $"{path}.branding", Error);
        FilteringSettings filtering = ValidateFiltering(t.Filtering, $"{path}.filtering", Error);

        if (failed)
        {
            return null;
        }
        return new Tenant
        {
            Id = id,
            Name = name,
            Domains = domains,
            Primary = primary,
            Mailboxes = mailboxes,
            AlertEmails = alertEmails,
            AlertWebhook = webhook,
            DashboardUsers = users,
            StorageShare = share,
            AlertDigestInterval = digest,
            ApiTokens = tokens,
            AcceptOnlyWhilePrimaryDown = t.AcceptOnlyWhilePrimaryDown ?? true,
            Recipients = recipients,
            Branding = branding,
            Filtering = filtering,
        };
    }

    private static TenantBranding? ValidateBranding(BrandingSection? b, string tenantName, string path, Action<string, string> error)
    {
        if (b is null)
        {
            return null;
        }
        string name = tenantName;
        if (b.Name is { } n)
        {
            name = n.Trim();
            if (name.Length is 0 or > 100 || name.Any(char.IsControl))
            {
                error($"{path}.name", "must be 1 to 100 characters without control characters");
            }
        }
        Uri? logo = null;
        if (b.LogoUrl is { } url)
        {
            // Note: https only: the webmail's Content-Security-Policy allows this one origin for
            // images, and a plain-http logo would be mixed content on an https webmail.
            if (!Uri.TryCreate(url, UriKind.Absolute, out logo) || logo.Scheme != Uri.UriSchemeHttps || !string.IsNullOrEmpty(logo.UserInfo))
            {
                error($"{path}.logoUrl", $"\"{url}\" must be an absolute https:// URL without user name or password");
                logo = null;
            }
        }
        string Colour(string? value, string fallback, string field)
        {
            if (value is null)
            {
                return fallback;
            }
            if (value.Length != 7 || value[0] != '#' || !value.Skip(1).All(char.IsAsciiHexDigit))
            {
                error($"{path}.{field}", $"\"{value}\" must be a colour written #rrggbb");
                return fallback;
            }
            return value.ToLowerInvariant();
        }
        string primary = Colour(b.PrimaryColor, TenantBranding.DefaultPrimary, "primaryColor");
        string background = Colour(b.BackgroundColor, TenantBranding.DefaultBackground, "backgroundColor");
        return new TenantBranding(name, logo, primary, background);
    }

    private static PrimaryServer ValidatePrimary(
        PrimarySection? p, string path, Func<string, bool> inDomains, Action<string, string> error)
    {
        var hosts = new List<HostPort>();
        if (p?.Hosts is null || p.Hosts.Count == 0)
        {
            error($"{path}.hosts", "at least one host is required: the company's own mail server (\"mail.example.com\" or \"mail.example.com:25\")");
        }
        else
        {
            for (int i = 0; i < p.Hosts.Count; i++)
            {
                if (HostPort.TryParse(p.Hosts[i], SmtpPort, out HostPort e, out string message) && !e.IsWildcard)
                {
                    hosts.Add(e);
                }
                else
                {
                    error($"{path}.hosts[{i}]", e.IsWildcard ? "\"*\" is not a host" : message);
                }
            }
        }
        TlsPolicy tls = TlsPolicy.Opportunistic;
        bool tlsValid = p?.Tls is not { } text
            || (!int.TryParse(text, out _) && Enum.TryParse(text, ignoreCase: true, out tls));
        if (!tlsValid)
        {
            error($"{path}.tls", $"\"{p?.Tls}\" must be one of none, opportunistic, require, verify");
        }
        string? probe = null;
        if (p?.ProbeRecipient is { } r)
        {
            if (!MailAddress.TryNormalize(r, out string address, out string message))
            {
                error($"{path}.probeRecipient", message);
            }
            else if (!inDomains(address))
            {
                error($"{path}.probeRecipient", $"\"{address}\" must be an address in this tenant's domains that the primary accepts");
            }
            else
            {
                probe = address;
            }
        }
        string probeSender = "";
        if (!string.IsNullOrEmpty(p?.ProbeSender))
        {
            if (MailAddress.TryNormalize(p.ProbeSender, out string sender, out string message))
            {
                probeSender = sender;
            }
            else
            {
                error($"{path}.probeSender", message);
            }
        }
        int connections = p?.Connections ?? 4;
        if (connections is < 1 or > 64)
        {
            error($"{path}.connections", $"{connections} must be from 1 to 64");
        }
        double rate = p?.MaxMessagesPerSecond ?? 0;
        if (double.IsNaN(rate) || rate < 0)
        {
            error($"{path}.maxMessagesPerSecond", "must be 0 (no cap) or more");
        }
        return new PrimaryServer(hosts, tls, probe, probeSender, connections, rate);
    }

    private static void CheckAcrossTenants(
        List<TenantSection?> sections, List<Tenant> tenants, WebSettings web, Action<string, string> error)
    {
        // Note: indexes in messages refer to the file, so map valid tenants back to their position.
        var positions = new Dictionary<Tenant, int>();
        foreach (Tenant t in tenants)
        {
            positions[t] = sections.FindIndex(s => s?.Id?.Trim() == t.Id);
        }
        var seenUsers = new HashSet<string>(web.Admins.Select(a => a.User), StringComparer.Ordinal);
        for (int a = 0; a < tenants.Count; a++)
        {
            Tenant ta = tenants[a];
            for (int b = 0; b < a; b++)
            {
                Tenant tb = tenants[b];
                if (ta.Id == tb.Id)
                {
                    error($"tenants[{IndexOfNth(sections, ta.Id, 1)}].id", $"\"{ta.Id}\" is already the id of tenants[{positions[tb]}]");
                    continue;
                }
                for (int i = 0; i < ta.Domains.Count; i++)
                {
                    DomainPattern? clash = tb.Domains.FirstOrDefault(d => d.Overlaps(ta.Domains[i]));
                    if (clash is not null)
                    {
                        error($"tenants[{positions[ta]}].domains[{i}]",
                            $"\"{ta.Domains[i]}\" overlaps \"{clash}\" of tenant \"{tb.Id}\": each domain belongs to one tenant");
                    }
                }
            }
            for (int u = 0; u < ta.DashboardUsers.Count; u++)
            {
                if (!seenUsers.Add(ta.DashboardUsers[u].User))
                {
                    error($"tenants[{positions[ta]}].dashboardUsers[{u}].user",
                        $"\"{ta.DashboardUsers[u].User}\" is already used by another tenant or an admin: user names are global");
                }
            }
        }
    }

    private static int IndexOfNth(List<TenantSection?> sections, string id, int nth)
    {
        int seen = -1;
        for (int i = 0; i < sections.Count; i++)
        {
            if (sections[i]?.Id?.Trim() == id && ++seen == nth)
            {
                return i;
            }
        }
        return -1;
    }

    private static IReadOnlyList<UserAccount> Users(List<UserSection?>? list, string path, Action<string, string> error)
    {
        var users = new List<UserAccount>();
        if (list is null)
        {
            return users;
        }
        for (int i = 0; i < list.Count; i++)
        {
            string p = $"{path}[{i}]";
            UserSection? u = list[i];
            if (u is null)
            {
                error(p, "must be an object");
                continue;
            }
            string name = u.User?.Trim() ?? "";
            if (!UserName().IsMatch(name))
            {
                error($"{p}.user", $"\"{u.User}\" must be 1-64 letters, digits, '.', '_' or '-'");
            }
            else if (users.Any(x => x.User == name))
            {
                error($"{p}.user", $"\"{name}\" is listed twice");
            }
            string? hash = PasswordHash(u.PasswordHash, $"{p}.passwordHash", error);
            if (u.PasswordHash is null)
            {
                error($"{p}.passwordHash", "required (make one with: respaldoctl passwd)");
            }
            users.Add(new UserAccount(name, hash ?? ""));
        }
        return users;
    }

    private static IReadOnlyList<ApiToken> ApiTokens(List<ApiTokenSection?>? list, string path, Action<string, string> error)
    {
        var tokens = new List<ApiToken>();
        for (int i = 0; i < (list?.Count ?? 0); i++)
        {
            string p = $"{path}[{i}]";
            ApiTokenSection? t = list![i];
            string name = t?.Name?.Trim() ?? "";
            string hash = t?.Sha256?.Trim().ToLowerInvariant() ?? "";
            if (!UserName().IsMatch(name))
            {
                error($"{p}.name", $"\"{t?.Name}\" must be 1-64 letters, digits, '.', '_' or '-'");
            }
            // Note: tokens are 256 random bits, so a plain SHA-256 is enough (no bcrypt: it would
            // cost a quarter second per API call); never echo the value.
            if (!Sha256Hex().IsMatch(hash))
            {
                error($"{p}.sha256", "must be 64 hex digits (make a token with: respaldoctl api-token NAME)");
            }
            tokens.Add(new ApiToken(name, hash));
        }
        return tokens;
    }

    [GeneratedRegex(@"\A[0-9a-f]{64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Sha256Hex();

    private static string? PasswordHash(string? text, string path, Action<string, string> error)
    {
        if (text is null)
        {
            return null;
        }
        // Note: only bcrypt for now: Dovecot verifies it (BLF-CRYPT through libxcrypt) and the
        // web login verifies the same string, so one hash serves both. Never echo the value.
        if (!BlowfishHash().IsMatch(text.Trim()))
        {
            error(path, "must be a {BLF-CRYPT}$2y$... hash (make one with: respaldoctl passwd)");
            return null;
        }
        return text.Trim();
    }

    private static long Size(SizeValue? value, long fallback, string path, Action<string, string> error)
    {
        if (value is null)
        {
            return fallback;
        }
        if (!ByteSize.TryParse(value.Text, out long bytes))
        {
            error(path, $"\"{value.Text}\" is not a size: write bytes (52428800) or a number with kB/MB/GB/TB or KiB/MiB/GiB/TiB (\"50MB\")");
            return fallback;
        }
        return bytes;
    }

    private static string AbsolutePath(string? text, string fallback, string path, Action<string, string> error)
    {
        if (text is null)
        {
            return fallback;
        }
        if (!Path.IsPathFullyQualified(text) || text.Contains('\0', StringComparison.Ordinal))
        {
            error(path, $"\"{text}\" must be an absolute path");
            return fallback;
        }
        return Path.TrimEndingDirectorySeparator(text);
    }

    private static string? OptionalAbsolutePath(string? text, string path, Action<string, string> error) =>
        text is null ? null : AbsolutePath(text, "", path, error);
}
