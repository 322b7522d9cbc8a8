using System.Security.Cryptography;

namespace Respaldo.Continuity;

/// <summary>
/// DANE for SMTP (RFC 7672), pure: <c>backup-tlsa</c>: when TLSA records are published for
/// <c>_25._tcp.</c> the backup's name, at least one must match the certificate it presents
/// (DANE-EE, usage 3, against the server's certificate; DANE-TA, usage 2, against a certificate
/// of its chain); otherwise senders that use DANE refuse to deliver to it. PKIX usages (0, 1)
/// are unusable in SMTP (RFC 7672 §3.1.3).
/// </summary>
/// <remarks>Note: whether the records are DNSSEC-signed (without which senders ignore them) is not checked.</remarks>
public static class TlsaChecks
{
    public const string Tlsa = "backup-tlsa";

    public static SetupCheck Evaluate(Lookup<TlsaRecordFact> tlsa, CertificateFacts? certificate, string mxName)
    {
        const string Why = "a sender that uses DANE delivers only to a server whose certificate matches one of its TLSA records";
        string subject = $"_25._tcp.{mxName}";
        switch (tlsa.Outcome)
        {
            case LookupOutcome.Failed:
                return new SetupCheck(Tlsa, subject, CheckStatus.CouldNotCheck, $"the TLSA lookup gave no answer: {tlsa.Error}", Why, "check dns.resolvers, then check again");
            case LookupOutcome.None:
                return new SetupCheck(Tlsa, subject, CheckStatus.Ok, "no TLSA records: DANE is not used for the backup", Why, "");
        }
        string records = string.Join(", ", tlsa.Records);
        if (certificate is not { Readable: true } c || c.Certificates.Count == 0)
        {
            return new SetupCheck(Tlsa, subject, CheckStatus.Failing, $"{records}, but the backup presents no certificate it could be matched against", Why,
                "configure intake.certificateFile with the certificate the records describe, or remove the TLSA records");
        }
        string expected = Convert.ToHexStringLower(SHA256.HashData(c.PublicKeys[0]));
        if (tlsa.Records.FirstOrDefault(r => Matches(r, c)) is { } match)
        {
            return new SetupCheck(Tlsa, subject, CheckStatus.Ok, $"{match} matches the certificate in {c.Path}", Why, "");
        }
        if (tlsa.Records.All(r => r.Usage is not (2 or 3)))
        {
            return new SetupCheck(Tlsa, subject, CheckStatus.Warning, $"{records}: only PKIX usages (0, 1), which SMTP senders ignore (RFC 7672 §3.1.3)", Why,
                $"publish \"{subject}. IN TLSA 3 1 1 {expected}\" instead");
        }
        return new SetupCheck(Tlsa, subject, CheckStatus.Failing, $"none of {records} matches the certificate in {c.Path}", Why,
            $"publish \"{subject}. IN TLSA 3 1 1 {expected}\" (the certificate's public key; keep it across renewals with the same key) and remove the stale records");
    }

    /// <summary>True when <paramref name="r"/> is usable in SMTP and describes the server's certificate (DANE-EE) or one of its chain (DANE-TA).</summary>
    public static bool Matches(TlsaRecordFact r, CertificateFacts certificate)
    {
        IEnumerable<int> which = r.Usage switch
        {
            3 => [0],
            2 => Enumerable.Range(1, Math.Max(0, certificate.Certificates.Count - 1)),
            _ => [],
        };
        foreach (int i in which)
        {
            byte[]? selected = r.Selector switch
            {
                0 => certificate.Certificates[i],
                1 => i < certificate.PublicKeys.Count ? certificate.PublicKeys[i] : null,
                _ => null,
            };
            byte[]? data = (selected, r.Matching) switch
            {
                (null, _) => null,
                (_, 0) => selected,
                (_, 1) => SHA256.HashData(selected),
                (_, 2) => SHA512.HashData(selected),
                _ => null,
            };
            if (data is not null && Convert.ToHexStringLower(data) == r.Data)
            {
                return true;
            }
        }
        return false;
    }
}
