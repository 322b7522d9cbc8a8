using System.Net;
using Respaldo.Configuration;
using Respaldo.Continuity;

namespace Respaldo.Tests.Continuity;

/// <summary>Facts made by hand for the evaluators: a tenant, a domain's MX records, the backup's addresses.</summary>
internal static class ContinuityFacts
{
    public const string BackupName = "mail-backup.suempresa.es";

    public static Tenant Tenant(string primaryHost = "mail.suempresa.es", string[]? alerts = null) => new()
    {
        Id = "suempresa",
        Name = "Su Empresa",
        Domains = [new DomainPattern("suempresa.es", false), new DomainPattern("suempresa.es", true)],
        Primary = new PrimaryServer([new HostPort(primaryHost, 25)], TlsPolicy.Opportunistic, "postmaster@suempresa.es", "", 1, 0),
        Mailboxes = [new Mailbox("info@suempresa.es", null, null)],
        AlertEmails = alerts ?? ["it@external.example"],
        DashboardUsers = [],
    };

    /// <summary>A domain whose MX records are <paramref name="mx"/> ("10 mail.suempresa.es"), every target at 192.0.2.1 unless named in <paramref name="withoutAddress"/>.</summary>
    public static DomainFacts Domain(string subject, string[] mx, params string[] withoutAddress)
    {
        var records = mx.Select(m => m.Split(' ')).Select(p => new MxHost(int.Parse(p[0], System.Globalization.CultureInfo.InvariantCulture), p[1])).ToList();
        var targets = records.Where(r => r.Exchange.Length > 0).DistinctBy(r => r.Exchange).ToDictionary(
            r => r.Exchange,
            r => withoutAddress.Contains(r.Exchange) ? Lookups.None<IPAddress>() : Lookups.Found<IPAddress>([IPAddress.Parse("192.0.2.1")]),
            StringComparer.OrdinalIgnoreCase);
        string name = subject.StartsWith("*.", StringComparison.Ordinal) ? "respaldo-check" + subject[1..] : subject;
        return new DomainFacts(subject, name, Lookups.Found<MxHost>(records), targets);
    }

    public static IReadOnlyList<SetupCheck> Only(this IReadOnlyList<SetupCheck> checks, string id) => checks.Where(c => c.Id == id).ToList();

    public static SetupCheck One(this IReadOnlyList<SetupCheck> checks, string id) => Assert.Single(checks, c => c.Id == id);
}
