using System.Text.RegularExpressions;

namespace Respaldo.Configuration;

/// <summary>
/// Address syntax accepted in the configuration: an ASCII dot-atom local part (RFC 5321
/// §4.1.2) without '/', '%' or '!' — they would name a path in the maildir tree or a
/// routing hack — and a mail domain. Addresses are kept in lower case, since Postfix's
/// tables and Dovecot's %Lu lookups fold case anyway.
/// </summary>
public static partial class MailAddress
{
    [GeneratedRegex(@"\A[A-Za-z0-9#$&'*+=?^_`{|}~-]+(\.[A-Za-z0-9#$&'*+=?^_`{|}~-]+)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex LocalPart();

    public static bool TryNormalize(string? text, out string address, out string error)
    {
        address = "";
        error = "";
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "must not be empty";
            return false;
        }
        string trimmed = text.Trim();
        int at = trimmed.LastIndexOf('@');
        if (at <= 0 || at == trimmed.Length - 1)
        {
            error = $"\"{text}\": not an address of the form local-part@domain";
            return false;
        }
        string local = trimmed[..at];
        string domain = trimmed[(at + 1)..].TrimEnd('.');
        if (local.Length > 64 || !LocalPart().IsMatch(local))
        {
            error = $"\"{text}\": the local part may hold letters, digits, dots and -_+= (no quotes, '%', '!', '/' or '@')";
            return false;
        }
        if (!HostName.IsMailDomain(domain))
        {
            error = $"\"{text}\": \"{domain}\" is not a valid mail domain";
            return false;
        }
        address = (local + "@" + domain).ToLowerInvariant();
        return true;
    }

    public static string DomainOf(string address) => address[(address.LastIndexOf('@') + 1)..];
}
