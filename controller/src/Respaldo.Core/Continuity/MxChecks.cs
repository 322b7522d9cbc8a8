using System.Globalization;
using System.Net;
using Respaldo.Configuration;

namespace Respaldo.Continuity;

/// <summary>
/// The MX checks of one domain (pure): <c>mx-present</c> (MX records exist),
/// <c>mx-primary-lowest</c> (the primary has the lowest preference), <c>mx-backup</c> (the
/// backup's name is listed with a higher number than the primary) and <c>mx-target-address</c>
/// (every MX target has an address).
/// </summary>
public static class MxChecks
{
    public const string Present = "mx-present";
    public const string PrimaryLowest = "mx-primary-lowest";
    public const string Backup = "mx-backup";
    public const string TargetAddress = "mx-target-address";

    /// <summary>The preference the README's example gives the backup, used in the fixes.</summary>
    private const int SuggestedBackupPreference = 20;

    public static IReadOnlyList<SetupCheck> Evaluate(DomainFacts domain, string backupName, Tenant tenant)
    {
        string owner = domain.Subject.StartsWith("*.", StringComparison.Ordinal) ? domain.Subject : domain.Name;
        string asked = domain.Subject == domain.Name ? domain.Name : $"{domain.Subject} (asked as {domain.Name})";
        string backupRecord = $"{owner}. IN MX {SuggestedBackupPreference} {backupName}.";
        switch (domain.Mx.Outcome)
        {
            case LookupOutcome.Failed:
                return [new SetupCheck(Present, asked, CheckStatus.CouldNotCheck, $"the MX lookup gave no answer: {domain.Mx.Error}",
                    "without an answer nothing about this domain's mail routing can be known", "check dns.resolvers and the domain's name servers, then check again")];
            case LookupOutcome.None:
                return [new SetupCheck(Present, asked, CheckStatus.Failing,
                    $"no MX records{(domain.Mx.Error.Length > 0 ? $" ({domain.Mx.Error})" : "")}",
                    "senders find a domain's servers by its MX records; without them mail goes to the domain's own address, never to the backup",
                    $"publish the primary's and the backup's MX records: {owner}. IN MX 10 <the primary>. and {backupRecord}")];
        }

        IReadOnlyList<MxHost> mx = domain.Mx.Records;
        string listed = string.Join(", ", mx.OrderBy(m => m.Preference).Select(m => m.ToString()));
        var checks = new List<SetupCheck>
        {
            new(Present, asked, CheckStatus.Ok, listed, "senders find the domain's servers by its MX records", ""),
        };
        if (mx.Any(m => m.Exchange.Length == 0))
        {
            checks.Add(new SetupCheck(Present, asked, CheckStatus.Failing, $"a null MX (\".\", RFC 7505) among {listed}",
                "a null MX says the domain takes no mail at all", $"remove the record \"{owner}. IN MX 0 .\""));
        }

        MxHost? backup = mx.Where(m => Same(m.Exchange, backupName)).OrderBy(m => m.Preference).FirstOrDefault();
        List<MxHost> others = mx.Where(m => !Same(m.Exchange, backupName) && m.Exchange.Length > 0).ToList();
        int? lowestOther = others.Count > 0 ? others.Min(m => m.Preference) : null;
        checks.Add(BackupCheck(asked, backup, lowestOther, listed, backupName, backupRecord));
        checks.Add(PrimaryCheck(asked, mx, backupName, tenant, domain.TargetAddresses, listed));

        foreach (MxHost m in mx.Where(m => m.Exchange.Length > 0).DistinctBy(m => m.Exchange))
        {
            Lookup<IPAddress> addresses = domain.TargetAddresses.TryGetValue(m.Exchange, out Lookup<IPAddress>? a) ? a : Lookups.Failed<IPAddress>("not looked up");
            string subject = $"{asked}: {m.Exchange}";
            checks.Add(addresses.Outcome switch
            {
                LookupOutcome.Found => new SetupCheck(TargetAddress, subject, CheckStatus.Ok, string.Join(", ", addresses.Records), "an MX target is reached at its address", ""),
                LookupOutcome.None => new SetupCheck(TargetAddress, subject, CheckStatus.Failing,
                    $"{m} names a host without an address (no A or AAAA record)",
                    "senders cannot connect to an MX target without an address; they may give up on the domain or skip to the next MX",
                    $"publish \"{m.Exchange}. IN A <its address>\", or correct the MX record to name a host that has one"),
                _ => new SetupCheck(TargetAddress, subject, CheckStatus.CouldNotCheck, $"the address lookup gave no answer: {addresses.Error}",
                    "an MX target is reached at its address", "check dns.resolvers and the target's name servers, then check again"),
            });
        }
        return checks;
    }

    private static SetupCheck BackupCheck(string asked, MxHost? backup, int? lowestOther, string listed, string backupName, string backupRecord)
    {
        const string Why = "senders try the MX hosts from the lowest number up: the backup must be listed, after the primary, to get the mail only when the primary does not answer";
        if (backup is null)
        {
            return new SetupCheck(Backup, asked, CheckStatus.Failing, $"the backup ({backupName}) is not among {listed}",
                "senders never try a server that is not listed: while the primary is down they keep the mail and give up after days", $"publish {backupRecord}");
        }
        if (lowestOther is not { } primary)
        {
            return new SetupCheck(Backup, asked, CheckStatus.Warning, $"the backup is the only MX ({listed})",
                "with the backup alone in the MX records every message goes to the backup first, even while the primary is up",
                $"publish the primary's MX with a lower number than {backup.Preference.ToString(CultureInfo.InvariantCulture)}");
        }
        if (backup.Preference < primary)
        {
            return new SetupCheck(Backup, asked, CheckStatus.Failing,
                $"the backup has preference {backup.Preference}, lower than the primary's {primary} ({listed})", Why,
                $"give the backup a higher number than {primary}: replace {backup} with {backupRecord.Replace($"MX {SuggestedBackupPreference} ", $"MX {Math.Max(SuggestedBackupPreference, primary + 10)} ", StringComparison.Ordinal)}");
        }
        if (backup.Preference == primary)
        {
            return new SetupCheck(Backup, asked, CheckStatus.Warning,
                $"the backup has the same preference as the primary ({primary}): senders share mail between them at random ({listed})", Why,
                $"give the backup a higher number: {backupRecord.Replace($"MX {SuggestedBackupPreference} ", $"MX {primary + 10} ", StringComparison.Ordinal)}");
        }
        return new SetupCheck(Backup, asked, CheckStatus.Ok, $"{backup}, after the primary's {primary}", Why, "");
    }

    private static SetupCheck PrimaryCheck(string asked, IReadOnlyList<MxHost> mx, string backupName, Tenant tenant,
        IReadOnlyDictionary<string, Lookup<IPAddress>> addresses, string listed)
    {
        const string Why = "senders deliver to the lowest-numbered MX that answers: it must be the primary, or mail goes elsewhere first";
        List<MxHost> lowest = mx.Where(m => m.Exchange.Length > 0).GroupBy(m => m.Preference).OrderBy(g => g.Key).FirstOrDefault()?.ToList() ?? [];
        if (lowest.Count == 0)
        {
            return new SetupCheck(PrimaryLowest, asked, CheckStatus.Failing, $"no usable MX among {listed}", Why, "publish the primary's MX record with the lowest number");
        }
        // Note: the backup's name is never the primary, even where both share an address (a lab, a test).
        if (lowest.FirstOrDefault(m => !Same(m.Exchange, backupName) && IsPrimary(m, tenant, addresses)) is { } primary)
        {
            return new SetupCheck(PrimaryLowest, asked, CheckStatus.Ok, $"{primary} is the lowest", Why, "");
        }
        string primaryHosts = string.Join(", ", tenant.Primary.Hosts.Select(h => h.Host));
        if (lowest.All(m => Same(m.Exchange, backupName)))
        {
            return new SetupCheck(PrimaryLowest, asked, CheckStatus.Failing, $"the lowest MX is the backup's ({string.Join(", ", lowest)}), not the primary's ({primaryHosts})",
                Why, $"give the primary a lower number than the backup's {lowest[0].Preference}");
        }
        // Note: the primary may be configured by an inside address or another name than the MX
        // target (NAT, a relay in front): a lowest MX that is not recognised is doubtful, not wrong.
        return new SetupCheck(PrimaryLowest, asked, CheckStatus.Warning,
            $"the lowest MX ({string.Join(", ", lowest)}) is not one of primary.hosts ({primaryHosts}) by name or address", Why,
            "if that host is the primary seen from outside, nothing is to be done; otherwise correct the MX records or tenants[].primary.hosts");
    }

    private static bool IsPrimary(MxHost m, Tenant tenant, IReadOnlyDictionary<string, Lookup<IPAddress>> addresses) =>
        tenant.Primary.Hosts.Any(h => Same(h.Host, m.Exchange)
            || (IPAddress.TryParse(h.Host, out IPAddress? ip) && addresses.TryGetValue(m.Exchange, out Lookup<IPAddress>? a) && a.Records.Contains(ip)));

    /// <summary>DNS names compare without case and without a trailing dot.</summary>
    public static bool Same(string a, string b) =>
        string.Equals(a.TrimEnd('.'), b.TrimEnd('.'), StringComparison.OrdinalIgnoreCase);
}
