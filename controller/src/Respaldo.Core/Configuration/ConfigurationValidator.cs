using System.Text.RegularExpressions;

namespace Respaldo.Configuration;

/// <summary>
/// Turns the file as written into <see cref="RespaldoSettings"/>, or into the full list of
/// what is wrong with it. It reports every error it can find in one pass (an admin fixing a
/// file should not have to run the check ten times) and names each by its JSON path.
/// Defaults live here and only here; README "Configuration" lists them. One partial file per
/// section (ConfigurationValidator.Web.cs, .Tenants.cs, ...); each rule reports through the
/// <see cref="ConfigPath"/> of its place in the file.
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
        var errors = new ErrorCollector();
        ConfigPath root = errors.Root;

        string hostname = "";
        if (string.IsNullOrWhiteSpace(file.Hostname))
        {
            root.At("hostname").Error("required: the backup's own host name, as in the MX record (mail-backup.example.com)");
        }
        else if (!HostName.IsValid(file.Hostname.Trim()))
        {
            root.At("hostname").Error($"\"{file.Hostname}\" is not a valid host name");
        }
        else
        {
            hostname = file.Hostname.Trim().ToLowerInvariant();
        }

        string stateDirectory = AbsolutePath(file.StateDirectory, "/var/lib/respaldo", root.At("stateDirectory"));
        string mailUser = string.IsNullOrWhiteSpace(file.MailUser) ? "respaldo-mail" : file.MailUser.Trim();
        if (!UserName().IsMatch(mailUser) || mailUser == "root")
        {
            root.At("mailUser").Error($"\"{mailUser}\" must be the name of an unprivileged system user (not root)");
        }
        string daemonUser = string.IsNullOrWhiteSpace(file.DaemonUser) ? "respaldo" : file.DaemonUser.Trim();
        if (!UserName().IsMatch(daemonUser) || daemonUser == "root")
        {
            root.At("daemonUser").Error($"\"{daemonUser}\" must be the name of an unprivileged system user (not root)");
        }
        else if (daemonUser == mailUser)
        {
            // Note: every Dovecot mail process runs as the mail user; the daemon's journal, web
            // session keys and submission password must be out of its reach (README "One user
            // for mail, another for the daemon").
            root.At("mailUser").Error($"\"{mailUser}\" is also daemonUser: Dovecot's mail processes must not run as the daemon's user");
        }

        long messageSizeLimit = Size(file.MessageSizeLimit, DefaultMessageSizeLimit, root.At("messageSizeLimit"));
        if (messageSizeLimit is > 0 and < 64 * 1024)
        {
            root.At("messageSizeLimit").Error("must be at least 64KiB (RFC 5321 §4.5.3.1.7 asks for 64k)");
        }

        StorageSettings storage = ValidateStorage(file.Storage, root.At("storage"));
        ListenSettings listen = ValidateListen(file.Listen, root.At("listen"));
        PostfixSettings postfix = ValidatePostfix(file.Postfix, root.At("postfix"));
        DovecotSettings dovecot = ValidateDovecot(file.Dovecot, root.At("dovecot"));
        WebSettings web = ValidateWeb(file.Web, root.At("web"));
        WebmailSettings webmail = ValidateWebmail(file.Webmail, root.At("webmail"));
        ControllerSettings controller = ValidateController(file.Controller, root.At("controller"));
        IntakeSettings intake = ValidatePostscreen(file.Intake, ValidateIntake(file.Intake, root.At("intake")), root.At("intake"));
        DnsSettings dns = ValidateDns(file.Dns, root.At("dns"));
        FilterSettings filter = ValidateFilter(file.Filter, hostname, root.At("filter"));
        JournalSettings journal = ValidateJournal(file.Journal, root.At("journal"));

        var tenants = new List<Tenant>();
        if (file.Tenants is null || file.Tenants.Count == 0)
        {
            root.At("tenants").Error("at least one tenant is required");
        }
        else
        {
            for (int i = 0; i < file.Tenants.Count; i++)
            {
                Tenant? tenant = ValidateTenant(file.Tenants[i], root.At("tenants").At(i), storage);
                if (tenant is not null)
                {
                    tenants.Add(tenant);
                }
            }
            CheckAcrossTenants(file.Tenants, tenants, web, root.At("tenants"));
        }

        if (errors.Count > 0)
        {
            return (null, errors.Errors);
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
        return (settings, errors.Errors);
    }
}
