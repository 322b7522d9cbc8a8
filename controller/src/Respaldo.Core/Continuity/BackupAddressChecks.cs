using System.Net;

namespace Respaldo.Continuity;

/// <summary>
/// The backup's own name and addresses (pure): <c>backup-address</c> (the MX name resolves to
/// this server's <c>intake.publicAddresses</c>) and <c>backup-reverse-dns</c> (each of those
/// addresses has a PTR name that resolves back to it: forward-confirmed reverse DNS).
/// </summary>
public static class BackupAddressChecks
{
    public const string Address = "backup-address";
    public const string ReverseDns = "backup-reverse-dns";

    public static IReadOnlyList<SetupCheck> Evaluate(BackupFacts backup)
    {
        var checks = new List<SetupCheck> { AddressCheck(backup) };
        if (backup.PublicAddresses.Count == 0)
        {
            return checks;
        }
        foreach (ReverseFacts r in backup.Reverse)
        {
            checks.Add(ReverseCheck(r, backup.MxName));
        }
        return checks;
    }

    private static SetupCheck AddressCheck(BackupFacts backup)
    {
        const string Why = "senders connect to the address the backup's MX name resolves to: it must be this server";
        string name = backup.MxName;
        string record = backup.PublicAddresses.Count > 0
            ? string.Join(" and ", backup.PublicAddresses.Select(a => $"\"{name}. IN {(a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "AAAA" : "A")} {a}\""))
            : $"\"{name}. IN A <this server's public address>\"";
        switch (backup.Addresses.Outcome)
        {
            case LookupOutcome.Failed:
                return new SetupCheck(Address, name, CheckStatus.CouldNotCheck, $"the address lookup gave no answer: {backup.Addresses.Error}", Why,
                    "check dns.resolvers and the name's DNS servers, then check again");
            case LookupOutcome.None:
                return new SetupCheck(Address, name, CheckStatus.Failing, "the backup's name has no address (no A or AAAA record)", Why, $"publish {record}");
        }
        IReadOnlyList<IPAddress> seen = backup.Addresses.Records;
        string seenText = string.Join(", ", seen);
        if (backup.PublicAddresses.Count == 0)
        {
            return new SetupCheck(Address, name, CheckStatus.Warning, $"resolves to {seenText}; intake.publicAddresses is not set, so it cannot be compared", Why,
                $"set intake.publicAddresses to this server's public address(es) (e.g. [\"{seen[0]}\"] if that is this server)");
        }
        List<IPAddress> ours = seen.Where(backup.PublicAddresses.Contains).ToList();
        List<IPAddress> foreign = seen.Where(a => !backup.PublicAddresses.Contains(a)).ToList();
        if (ours.Count == 0)
        {
            return new SetupCheck(Address, name, CheckStatus.Failing,
                $"resolves to {seenText}, none of them this server's ({string.Join(", ", backup.PublicAddresses)})", Why, $"publish {record} and remove the others");
        }
        if (foreign.Count > 0)
        {
            return new SetupCheck(Address, name, CheckStatus.Warning,
                $"resolves to {seenText}; {string.Join(", ", foreign)} is not in intake.publicAddresses", Why,
                $"remove the records of {string.Join(", ", foreign)}, or add them to intake.publicAddresses if they reach this server");
        }
        return new SetupCheck(Address, name, CheckStatus.Ok, $"resolves to {seenText}", Why, "");
    }

    private static SetupCheck ReverseCheck(ReverseFacts r, string mxName)
    {
        const string Why = "many primaries and senders refuse or distrust a client whose address has no reverse DNS name that resolves back to it (FCrDNS)";
        string subject = r.Address.ToString();
        string ptrOwner = ReverseName(r.Address);
        string fix = $"ask whoever owns the address block to publish \"{ptrOwner}. IN PTR {mxName}.\" (and keep {mxName}'s address record)";
        switch (r.Names.Outcome)
        {
            case LookupOutcome.Failed:
                return new SetupCheck(ReverseDns, subject, CheckStatus.CouldNotCheck, $"the PTR lookup gave no answer: {r.Names.Error}", Why,
                    "check dns.resolvers and the reverse zone's servers, then check again");
            case LookupOutcome.None:
                return new SetupCheck(ReverseDns, subject, CheckStatus.Warning, "no PTR record", Why, fix);
        }
        string names = string.Join(", ", r.Names.Records);
        foreach (string n in r.Names.Records)
        {
            if (r.Forward.TryGetValue(n, out Lookup<IPAddress>? forward) && forward.Records.Contains(r.Address))
            {
                return new SetupCheck(ReverseDns, subject, CheckStatus.Ok, $"PTR {n}, which resolves back to {r.Address}", Why, "");
            }
        }
        if (r.Forward.Values.Any(f => f.Outcome == LookupOutcome.Failed))
        {
            return new SetupCheck(ReverseDns, subject, CheckStatus.CouldNotCheck, $"PTR {names}; its address lookup gave no answer", Why,
                "check dns.resolvers, then check again");
        }
        return new SetupCheck(ReverseDns, subject, CheckStatus.Warning, $"PTR {names}, which does not resolve back to {r.Address}", Why, fix);
    }

    /// <summary>The PTR owner name of an address (in-addr.arpa or ip6.arpa).</summary>
    public static string ReverseName(IPAddress address)
    {
        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            return string.Join('.', address.GetAddressBytes().Reverse()) + ".in-addr.arpa";
        }
        string hex = Convert.ToHexStringLower(address.GetAddressBytes());
        return string.Join('.', hex.Reverse()) + ".ip6.arpa";
    }
}
