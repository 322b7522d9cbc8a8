using System.Globalization;

namespace Respaldo.Continuity;

/// <summary>
/// The backup's own certificate (pure): <c>backup-certificate</c>: one is configured, it is
/// valid now and for at least <see cref="RenewBefore"/> more, and its names cover the MX name.
/// </summary>
public static class CertificateChecks
{
    public const string Certificate = "backup-certificate";

    /// <summary>How long before its end a certificate is a warning (issue 15: 21 days).</summary>
    public static readonly TimeSpan RenewBefore = TimeSpan.FromDays(21);

    public static SetupCheck Evaluate(CertificateFacts? facts, string mxName, DateTimeOffset now)
    {
        const string Why = "senders that require TLS (MTA-STS, DANE, their own policy) deliver only to a server whose certificate is valid for the MX name";
        if (facts is null)
        {
            return new SetupCheck(Certificate, mxName, CheckStatus.Warning, "no certificate configured: the backup offers no STARTTLS", Why,
                $"set intake.certificateFile and intake.keyFile to a certificate for {mxName} (e.g. from Let's Encrypt)");
        }
        if (!facts.Readable)
        {
            return new SetupCheck(Certificate, facts.Path, CheckStatus.CouldNotCheck, $"cannot be read: {facts.Error}", Why,
                $"make {facts.Path} readable by the daemon's user (a certificate is public; the key is not)");
        }
        string names = string.Join(", ", facts.Names);
        string until = facts.NotAfter.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        string seen = $"for {names}, issued by {facts.Issuer}, valid until {until}";
        string renew = $"renew the certificate in {facts.Path} (and reload: respaldoctl render --reload)";
        if (now >= facts.NotAfter)
        {
            return new SetupCheck(Certificate, facts.Path, CheckStatus.Warning, $"{seen}: expired", Why, renew) { AlertsAsWarning = true };
        }
        if (now < facts.NotBefore)
        {
            return new SetupCheck(Certificate, facts.Path, CheckStatus.Warning, $"{seen}: not valid before {facts.NotBefore.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)}", Why,
                "check the server's clock, or install a certificate valid now");
        }
        if (!facts.Names.Any(n => Covers(n, mxName)))
        {
            return new SetupCheck(Certificate, facts.Path, CheckStatus.Warning, $"{seen}: does not cover {mxName}", Why,
                $"install a certificate whose names include {mxName}");
        }
        if (facts.NotAfter - now < RenewBefore)
        {
            int days = (int)Math.Floor((facts.NotAfter - now).TotalDays);
            return new SetupCheck(Certificate, facts.Path, CheckStatus.Warning, $"{seen}: expires in {days.ToString(CultureInfo.InvariantCulture)} days", Why, renew) { AlertsAsWarning = true };
        }
        return new SetupCheck(Certificate, facts.Path, CheckStatus.Ok, seen, Why, "");
    }

    /// <summary>True when a certificate name covers <paramref name="host"/>: equal, or a wildcard for exactly one leftmost label (RFC 6125 §6.4.3).</summary>
    public static bool Covers(string name, string host)
    {
        string n = name.TrimEnd('.').ToLowerInvariant();
        string h = host.TrimEnd('.').ToLowerInvariant();
        if (n == h)
        {
            return true;
        }
        return n.StartsWith("*.", StringComparison.Ordinal) && h.IndexOf('.', StringComparison.Ordinal) is > 0 and var dot && h[(dot + 1)..] == n[2..];
    }
}
