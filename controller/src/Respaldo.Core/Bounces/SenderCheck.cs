using MimeKit;
using MimeKit.Cryptography;
using Respaldo.Webmail;

namespace Respaldo.Bounces;

/// <summary>What the backup's border found about the address a bounce would go to.</summary>
public enum SenderVerdict
{
    /// <summary>SPF passed for that very envelope sender, or DKIM passed for its domain (or a parent of it).</summary>
    Aligned,
    /// <summary>The border checked and neither passed for that address: it may well be forged.</summary>
    NotAligned,
    /// <summary>The message carries no Authentication-Results of the backup's own border (filtering off, or older).</summary>
    NotChecked,
}

/// <summary>
/// May this bounce go out? A DSN goes to the held message's envelope sender; when that sender
/// was forged, it lands on an innocent third party (backscatter). Only an aligned pass recorded
/// by the backup's own border says the address is really the author's. Pure.
/// </summary>
/// <remarks>
/// Note: the rule is SPF pass whose smtp.mailfrom is the envelope sender's domain (SPF checks
/// exactly that identity), or DKIM pass whose header.d is that domain or a parent of it (the
/// parent's owner signed for it). A signing domain that is a subdomain of the sender's is not
/// enough: without the public suffix list, user.example.net cannot be told from a registrable
/// domain's own host, so the rule stays on the safe side. Only the topmost
/// Authentication-Results with our authserv-id counts (<see cref="AuthenticationBadge.Own"/>).
/// </remarks>
public static class SenderCheck
{
    public static SenderVerdict Of(HeaderList headers, string authservId, string sender)
    {
        if (AuthenticationBadge.Own(headers, authservId) is not { } results)
        {
            return SenderVerdict.NotChecked;
        }
        string? domain = DomainOf(sender);
        if (domain is null)
        {
            return SenderVerdict.NotAligned;
        }
        foreach (AuthenticationMethodResult r in results.Results)
        {
            if (!string.Equals(r.Result, "pass", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            if (string.Equals(r.Method, "spf", StringComparison.OrdinalIgnoreCase)
                && Property(r, "smtp", "mailfrom") is { } mailFrom && DomainOf(mailFrom) == domain)
            {
                return SenderVerdict.Aligned;
            }
            if (string.Equals(r.Method, "dkim", StringComparison.OrdinalIgnoreCase)
                && Property(r, "header", "d") is { } d && d.Trim().TrimEnd('.').ToLowerInvariant() is { Length: > 0 } signer
                && (domain == signer || domain.EndsWith("." + signer, StringComparison.Ordinal)))
            {
                return SenderVerdict.Aligned;
            }
        }
        return SenderVerdict.NotAligned;
    }

    /// <summary>Admins may bounce whatever the verdict (with a warning); a tenant's user only to an aligned sender.</summary>
    public static bool MayBounce(SenderVerdict verdict, bool byAdmin) => byAdmin || verdict == SenderVerdict.Aligned;

    private static string? Property(AuthenticationMethodResult r, string type, string name) =>
        r.Properties.FirstOrDefault(p => string.Equals(p.PropertyType, type, StringComparison.OrdinalIgnoreCase)
            && string.Equals(p.Property, name, StringComparison.OrdinalIgnoreCase))?.Value;

    /// <summary>The domain of an address (or a bare domain, as smtp.mailfrom may be), lower case; null when empty.</summary>
    private static string? DomainOf(string address)
    {
        string a = address.Trim().Trim('<', '>');
        string d = (a.LastIndexOf('@') is var at and >= 0 ? a[(at + 1)..] : a).TrimEnd('.').ToLowerInvariant();
        return d.Length > 0 ? d : null;
    }
}

/// <summary>A tenant's user asked to bounce a message whose sender the border did not find aligned.</summary>
public sealed class BounceRefusedException : Exception
{
    public BounceRefusedException() { }

    public BounceRefusedException(string message) : base(message) { }

    public BounceRefusedException(string message, Exception inner) : base(message, inner) { }
}
