using Respaldo.Configuration;

namespace Respaldo.Mailboxes;

/// <summary>Which tenant a recipient domain belongs to: an exact domain first, else the longest "*." match.</summary>
public sealed class TenantDirectory
{
    private readonly Dictionary<string, Tenant> _exact = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<(string Suffix, Tenant Tenant)> _wildcards = [];

    public TenantDirectory(IEnumerable<Tenant> tenants)
    {
        foreach (Tenant t in tenants)
        {
            foreach (DomainPattern d in t.Domains)
            {
                if (d.IncludesSubdomains)
                {
                    _wildcards.Add(("." + d.Domain, t));
                }
                else
                {
                    _exact[d.Domain] = t;
                }
            }
        }
        _wildcards.Sort((a, b) => b.Suffix.Length.CompareTo(a.Suffix.Length));
    }

    public Tenant? ForDomain(string domain) => ForDomain(domain.AsSpan());

    /// <summary>The same, for a domain inside a longer string (a path the watcher reports): no string made.</summary>
    public Tenant? ForDomain(ReadOnlySpan<char> domain)
    {
        if (_exact.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(domain, out Tenant? tenant))
        {
            return tenant;
        }
        foreach ((string suffix, Tenant t) in _wildcards)
        {
            if (domain.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                return t;
            }
        }
        return null;
    }

    public Tenant? ForAddress(string address) => ForDomain(MailAddress.DomainOf(address));
}
