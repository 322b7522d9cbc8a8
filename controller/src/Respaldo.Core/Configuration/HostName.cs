using System.Text.RegularExpressions;

namespace Respaldo.Configuration;

/// <summary>Syntax of DNS host and domain names (RFC 1123 §2.1, letters-digits-hyphen labels).</summary>
public static partial class HostName
{
    [GeneratedRegex(@"\A(?=.{1,253}\z)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\z",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    public static bool IsValid(string name) => Pattern().IsMatch(name);

    /// <summary>A domain that mail may be addressed to: valid, with at least two labels.</summary>
    public static bool IsMailDomain(string name) => IsValid(name) && name.Contains('.', StringComparison.Ordinal);
}
