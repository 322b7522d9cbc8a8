using System.Globalization;
using Respaldo.Configuration;
using Respaldo.Primary;
using Respaldo.Smtp;

namespace Respaldo.Continuity;

/// <summary>
/// The primary seen from the backup (pure, over <see cref="PrimaryProber"/>'s results):
/// <c>primary-reachable</c> (port 25 connects, greets, answers EHLO and STARTTLS per the
/// tenant's policy), <c>primary-recipient</c> (the probe recipient is accepted) and
/// <c>primary-size</c> (the primary's SIZE against the backup's <c>messageSizeLimit</c>).
/// </summary>
public static class PrimaryChecks
{
    public const string Reachable = "primary-reachable";
    public const string Recipient = "primary-recipient";
    public const string Size = "primary-size";

    public static IReadOnlyList<SetupCheck> Evaluate(Tenant tenant, IReadOnlyList<ProbeResult> probes, long backupSizeLimit)
    {
        string hosts = string.Join(", ", tenant.Primary.Hosts);
        if (probes.Count == 0)
        {
            return [new SetupCheck(Reachable, hosts, CheckStatus.CouldNotCheck, "no probe ran", "the backup hands mail over to the primary by SMTP", "check again")];
        }
        // Note: the prober stops at the first host that is up; that one speaks for the tenant.
        ProbeResult probe = probes.FirstOrDefault(p => p.Up) ?? probes[^1];
        string subject = probe.Host.ToString();
        var checks = new List<SetupCheck>();
        bool talked = probe.Up || probe.Stage is SmtpStage.MailFrom or SmtpStage.RcptTo or SmtpStage.Reset;
        string failures = string.Join("; ", probes.Where(p => !p.Up).Select(p => $"{p.Host}: {p.Reason}"));
        checks.Add(talked
            ? new SetupCheck(Reachable, subject, CheckStatus.Ok,
                $"greeting, EHLO{(probe.Tls ? ", STARTTLS" : "")} in {probe.Latency.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)} ms",
                "the backup hands mail over to the primary by SMTP", "")
            : new SetupCheck(Reachable, subject, CheckStatus.Failing, $"down at {probe.Stage}: {failures}",
                "the backup hands mail over to the primary by SMTP: mail stored now would wait",
                $"let the backup's address connect to {hosts} on port 25 (firewall, greylisting, a client restriction) and check tenants[].primary.hosts and .tls ({tenant.Primary.Tls.ToString().ToLowerInvariant()})"));

        const string RecipientWhy = "the probe recipient proves the primary takes mail for the tenant, not only that it answers";
        if (tenant.Primary.ProbeRecipient is not { } recipient)
        {
            checks.Add(new SetupCheck(Recipient, subject, CheckStatus.Warning, "no probe recipient configured", RecipientWhy,
                "set tenants[].primary.probeRecipient to an address the primary has (e.g. postmaster@ a domain of the tenant)"));
        }
        else if (probe.Up)
        {
            checks.Add(new SetupCheck(Recipient, subject, CheckStatus.Ok, $"RCPT TO:<{recipient}> accepted", RecipientWhy, ""));
        }
        else if (probe.Stage is SmtpStage.MailFrom or SmtpStage.RcptTo)
        {
            checks.Add(new SetupCheck(Recipient, subject, CheckStatus.Failing, probe.Reason, RecipientWhy,
                $"make the primary accept <{recipient}> from {tenant.Primary.ProbeSender} sent by the backup, or set tenants[].primary.probeRecipient to an address it has"));
        }
        else
        {
            checks.Add(new SetupCheck(Recipient, subject, CheckStatus.CouldNotCheck, "the probe did not get as far as RCPT", RecipientWhy, "fix primary-reachable first"));
        }

        const string SizeWhy = "a message larger than the primary's SIZE could not be handed over: the backup refuses it at the border instead";
        if (!talked)
        {
            checks.Add(new SetupCheck(Size, subject, CheckStatus.CouldNotCheck, "the primary's EHLO was not read", SizeWhy, "fix primary-reachable first"));
        }
        else if (probe.Capabilities.MaxSize is { } max && max < backupSizeLimit)
        {
            checks.Add(new SetupCheck(Size, subject, CheckStatus.Warning,
                $"the primary takes at most {max.ToString(CultureInfo.InvariantCulture)} bytes (SIZE), the backup up to {backupSizeLimit.ToString(CultureInfo.InvariantCulture)} (messageSizeLimit)",
                SizeWhy, $"set messageSizeLimit to {max.ToString(CultureInfo.InvariantCulture)}, or raise the primary's limit (Postfix: message_size_limit) to at least {backupSizeLimit.ToString(CultureInfo.InvariantCulture)}"));
        }
        else
        {
            string seen = probe.Capabilities.MaxSize is { } m ? $"SIZE {m.ToString(CultureInfo.InvariantCulture)}, at least the backup's {backupSizeLimit.ToString(CultureInfo.InvariantCulture)}" : "no fixed SIZE limit advertised";
            checks.Add(new SetupCheck(Size, subject, CheckStatus.Ok, seen, SizeWhy, ""));
        }
        return checks;
    }
}
