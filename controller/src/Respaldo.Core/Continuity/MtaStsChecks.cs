namespace Respaldo.Continuity;

/// <summary>
/// MTA-STS (RFC 8461), pure, per domain: <c>mta-sts</c>: when <c>_mta-sts.DOMAIN</c> announces a
/// policy, the policy could be fetched and parsed and one of its <c>mx:</c> lines names the
/// backup; <c>mta-sts-certificate</c> (only when the policy names the backup and is enforced or
/// tested): the backup's certificate is valid now, for the MX name, and chains to a CA senders
/// trust. A policy in <c>enforce</c> mode that fails either makes senders refuse to deliver to the
/// backup (failing); in <c>testing</c> mode they deliver and report (warning).
/// </summary>
public static class MtaStsChecks
{
    public const string Policy = "mta-sts";
    public const string PolicyCertificate = "mta-sts-certificate";

    private const string Why = "a sender that honours the domain's MTA-STS policy delivers only to an MX its mx: lines name, over TLS with a certificate valid for that name";

    public static IReadOnlyList<SetupCheck> Evaluate(MtaStsFacts facts, CertificateFacts? certificate, string mxName, DateTimeOffset now)
    {
        string record = $"_mta-sts.{facts.Domain}";
        switch (facts.Records.Outcome)
        {
            case LookupOutcome.Failed:
                return [new SetupCheck(Policy, facts.Domain, CheckStatus.CouldNotCheck, $"the TXT lookup of {record} gave no answer: {facts.Records.Error}", Why,
                    "check dns.resolvers and the domain's name servers, then check again")];
            case LookupOutcome.None:
                return [new SetupCheck(Policy, facts.Domain, CheckStatus.Ok, $"no MTA-STS policy ({record} has no v=STSv1 TXT record)", Why, "")];
        }
        if (facts.Records.Records.Count > 1)
        {
            // Note: RFC 8461 §3.1: more than one v=STSv1 record and senders assume there is no policy.
            return [new SetupCheck(Policy, facts.Domain, CheckStatus.Warning,
                $"{facts.Records.Records.Count} v=STSv1 TXT records at {record}: senders ignore the policy (RFC 8461 §3.1)", Why,
                $"keep one TXT record at {record}")];
        }
        string mxLine = $"mx: {mxName}";
        if (facts.Policy is not { Fetched: true } fetched)
        {
            return [new SetupCheck(Policy, facts.Domain, CheckStatus.CouldNotCheck,
                $"{record} announces a policy, but {facts.PolicyUrl} could not be fetched: {facts.Policy?.Error ?? "not fetched"}", Why,
                $"serve the policy at {facts.PolicyUrl} over HTTPS with a certificate for mta-sts.{facts.Domain} (answering 200, no redirect), with the line \"{mxLine}\"")];
        }
        if (!string.Equals(fetched.MediaType, "text/plain", StringComparison.OrdinalIgnoreCase))
        {
            // Note: RFC 8461 §3.3: senders SHOULD check the media type, so a policy served as anything else may be ignored.
            return [new SetupCheck(Policy, facts.Domain, CheckStatus.Warning,
                $"{facts.PolicyUrl} is served as \"{fetched.MediaType}\", not text/plain: senders that check the media type (RFC 8461 §3.3) ignore the policy", Why,
                $"serve {facts.PolicyUrl} with Content-Type: text/plain")];
        }
        if (MtaStsPolicy.Parse(fetched.Body, out string error) is not { } policy)
        {
            return [new SetupCheck(Policy, facts.Domain, CheckStatus.Warning, $"the policy at {facts.PolicyUrl} is not valid: {error}; senders ignore it", Why,
                $"correct the policy (version: STSv1, mode, max_age, one mx: line per MX, among them \"{mxLine}\")")];
        }
        string mode = MtaStsPolicy.ModeText(policy.Mode);
        string seen = $"mode {mode}, mx: {string.Join(", ", policy.Mx)}";
        if (policy.Mode == MtaStsMode.None)
        {
            return [new SetupCheck(Policy, facts.Domain, CheckStatus.Ok, $"{seen}: senders apply no policy", Why, "")];
        }
        CheckStatus fault = policy.Mode == MtaStsMode.Enforce ? CheckStatus.Failing : CheckStatus.Warning;
        string? pattern = policy.Mx.FirstOrDefault(p => MtaStsPolicy.Matches(p, mxName));
        if (pattern is null)
        {
            string consequence = policy.Mode == MtaStsMode.Enforce
                ? $"{mxName} is not among them: senders that honour the policy will not deliver to the backup"
                : $"{mxName} is not among them: senders deliver to the backup but report it as a failure";
            return [new SetupCheck(Policy, facts.Domain, fault, $"{seen}: {consequence}", Why,
                $"add the line \"{mxLine}\" to {facts.PolicyUrl}, then change the id= in the {record} TXT record (senders fetch the policy again only when the id changes)")];
        }
        return
        [
            new SetupCheck(Policy, facts.Domain, CheckStatus.Ok, $"{seen}: {mxName} matches \"mx: {pattern}\"", Why, ""),
            CertificateCheck(facts.Domain, certificate, mxName, fault, now),
        ];
    }

    private static SetupCheck CertificateCheck(string domain, CertificateFacts? certificate, string mxName, CheckStatus fault, DateTimeOffset now)
    {
        const string CertificateWhy = "under an MTA-STS policy a sender checks the backup's certificate as a browser does: valid now, for the MX name, from a CA it trusts";
        string subject = $"{domain}: {mxName}";
        if (certificate is null)
        {
            return new SetupCheck(PolicyCertificate, subject, fault, "the backup offers no STARTTLS (no intake.certificateFile)", CertificateWhy,
                $"set intake.certificateFile and intake.keyFile to a certificate for {mxName} from a public CA (e.g. Let's Encrypt)");
        }
        if (!certificate.Readable)
        {
            return new SetupCheck(PolicyCertificate, subject, CheckStatus.CouldNotCheck, $"{certificate.Path} cannot be read: {certificate.Error}", CertificateWhy,
                $"make {certificate.Path} readable by the daemon's user");
        }
        string problem = now >= certificate.NotAfter ? "has expired"
            : now < certificate.NotBefore ? "is not valid yet"
            : !certificate.Names.Any(n => CertificateChecks.Covers(n, mxName)) ? $"is for {string.Join(", ", certificate.Names)}, not {mxName}"
            : !certificate.Trusted ? $"does not chain to a trusted CA ({certificate.TrustError})"
            : "";
        if (problem.Length > 0)
        {
            return new SetupCheck(PolicyCertificate, subject, fault, $"the certificate in {certificate.Path} {problem}", CertificateWhy,
                $"install a certificate for {mxName} from a public CA (e.g. Let's Encrypt) in {certificate.Path} (and reload: respaldoctl render --reload)");
        }
        return new SetupCheck(PolicyCertificate, subject, CheckStatus.Ok, $"the certificate in {certificate.Path} is valid for {mxName}, issued by {certificate.Issuer}", CertificateWhy, "");
    }
}
