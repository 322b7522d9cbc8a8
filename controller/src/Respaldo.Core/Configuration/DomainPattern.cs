namespace Respaldo.Configuration;

/// <summary>
/// A domain a tenant receives mail for. <c>*.example.com</c> means every subdomain of
/// example.com at any depth (a.example.com, b.a.example.com), but not example.com itself,
/// which is listed on its own, as in an MX zone.
/// </summary>
public sealed record DomainPattern(string Domain, bool IncludesSubdomains)
{
    public static bool TryParse(string? text, out DomainPattern pattern, out string error)
    {
        pattern = new DomainPattern("", false);
        error = "";
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "must not be empty";
            return false;
        }
        string lowered = text.Trim().ToLowerInvariant().TrimEnd('.');
        bool wildcard = lowered.StartsWith("*.", StringComparison.Ordinal);
        string domain = wildcard ? lowered[2..] : lowered;
        if (domain.Contains('*', StringComparison.Ordinal))
        {
            error = $"\"{text}\": '*' is allowed only as the whole first label (\"*.example.com\")";
            return false;
        }
        if (!HostName.IsMailDomain(domain))
        {
            error = $"\"{text}\": not a valid domain name";
            return false;
        }
        pattern = new DomainPattern(domain, wildcard);
        return true;
    }

    public bool Matches(string domain) =>
        IncludesSubdomains
            ? domain.EndsWith("." + Domain, StringComparison.OrdinalIgnoreCase)
            : domain.Equals(Domain, StringComparison.OrdinalIgnoreCase);

    /// <summary>True when some domain would match both patterns.</summary>
    public bool Overlaps(DomainPattern other) =>
        (IncludesSubdomains, other.IncludesSubdomains) switch
        {
            (false, false) => Domain == other.Domain,
            (true, false) => Matches(other.Domain),
            (false, true) => other.Matches(Domain),
            (true, true) => Domain == other.Domain
                || Domain.EndsWith("." + other.Domain, StringComparison.Ordinal)
                || other.Domain.EndsWith("." + Domain, StringComparison.Ordinal),
        };

    public override string ToString() => IncludesSubdomains ? "*." + Domain : Domain;
}
