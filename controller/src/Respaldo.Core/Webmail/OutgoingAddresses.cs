using MimeKit;
using Respaldo.Configuration;

namespace Respaldo.Webmail;

/// <summary>Why a message written in the webmail cannot be sent as it is.</summary>
public enum AddressProblem
{
    None,
    NoRecipient,
    Unparsable,
    TooMany,
    NotOwnSender,
}

/// <summary>
/// The addresses of a message written in the webmail: recipients as the user typed them
/// (commas or semicolons, display names allowed), parsed by MimeKit; the sender is always the
/// logged-in mailbox itself (Postfix enforces the same with smtpd_sender_login_maps).
/// </summary>
public static class OutgoingAddresses
{
    public const int MaxRecipients = 100;

    /// <summary>Parses one field (To, Cc or Bcc); empty is an empty list.</summary>
    public static AddressProblem TryParse(string? field, out List<MailboxAddress> addresses)
    {
        addresses = [];
        if (string.IsNullOrWhiteSpace(field))
        {
            return AddressProblem.None;
        }
        string text = field.Replace(';', ',').Replace('\r', ' ').Replace('\n', ' ');
        if (!InternetAddressList.TryParse(ParserOptions.Default, text, out InternetAddressList? list))
        {
            return AddressProblem.Unparsable;
        }
        foreach (MailboxAddress m in list.Mailboxes)
        {
            if (!MailAddress.TryNormalize(m.Address, out string normalized, out _))
            {
                return AddressProblem.Unparsable;
            }
            addresses.Add(new MailboxAddress(m.Name, normalized));
        }
        return addresses.Count > MaxRecipients ? AddressProblem.TooMany : AddressProblem.None;
    }

    /// <summary>Checks the recipients of all fields together: at least one, at most <see cref="MaxRecipients"/>.</summary>
    public static AddressProblem CheckRecipients(params IReadOnlyList<MailboxAddress>[] fields)
    {
        int n = fields.Sum(f => f.Count);
        return n == 0 ? AddressProblem.NoRecipient : n > MaxRecipients ? AddressProblem.TooMany : AddressProblem.None;
    }

    /// <summary>True only when <paramref name="from"/> is the logged-in mailbox's own address.</summary>
    public static bool IsOwnSender(string mailbox, string? from) =>
        MailAddress.TryNormalize(from, out string f, out _) && MailAddress.TryNormalize(mailbox, out string m, out _) &&
        string.Equals(f, m, StringComparison.Ordinal);

    /// <summary>
    /// Reply-all recipients: the original's From (or Reply-To), To and Cc, without the
    /// mailbox itself and without duplicates (compared case-insensitively).
    /// </summary>
    public static (List<MailboxAddress> To, List<MailboxAddress> Cc) ReplyAll(MimeMessage original, string mailbox)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { mailbox };
        List<MailboxAddress> Take(IEnumerable<MailboxAddress> addresses) => addresses.Where(a => seen.Add(a.Address)).ToList();
        List<MailboxAddress> to = Take(ReplyTarget(original));
        to.AddRange(Take(original.To.Mailboxes));
        List<MailboxAddress> cc = Take(original.Cc.Mailboxes);
        return (to, cc);
    }

    /// <summary>Whom a plain reply goes to: Reply-To when present (RFC 5322 §3.6.2), else From.</summary>
    public static IEnumerable<MailboxAddress> ReplyTarget(MimeMessage original) =>
        original.ReplyTo.Mailboxes.Any() ? original.ReplyTo.Mailboxes : original.From.Mailboxes;
}
