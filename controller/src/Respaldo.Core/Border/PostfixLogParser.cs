using System.Text.RegularExpressions;

namespace Respaldo.Border;

/// <summary>
/// Reads the border's verdicts out of Postfix's own log lines, the way postfix_exporter and
/// pflogsumm count rejections: rspamd's milter-reject lines (smtpd) and postscreen's RCPT
/// refusals. Pure: a line in, a verdict or null out.
/// </summary>
/// <remarks>
/// Note: the reason comes from the tag rspamd's force_actions rules put at the end of their
/// reply text ("... [dmarc]", postfix-templates/rspamd/override.d/force_actions.conf), so the
/// count and the reply the sender saw are one and the same. postscreen runs only the pregreet
/// test and the DNS lists (no deep-protocol tests), so its "Protocol error" is a pregreet.
/// </remarks>
public static partial class PostfixLogParser
{
    // Postfix: "<time> <host> postfix/cleanup[123]: QUEUEID: milter-reject: END-OF-MESSAGE from
    // name[addr]: 5.7.1 text; from=<a> to=<b> proto=ESMTP helo=<h>".
    [GeneratedRegex(@"(?<prog>\S+)\[\d+\]: (?:[0-9A-Za-z]+|NOQUEUE): (?<kind>milter-reject|reject): (?<stage>[A-Z-]+) from (?<client>\S+?):? (?:(?<code>[245]\d\d) )?(?<status>[245]\.\d{1,3}\.\d{1,3}) (?<text>.*?);(?<fields>.*)\z", RegexOptions.CultureInvariant)]
    private static partial Regex Reject();

    [GeneratedRegex(@"\bto=<(?<v>[^>]*)>", RegexOptions.CultureInvariant)]
    private static partial Regex To();

    [GeneratedRegex(@"\bfrom=<(?<v>[^>]*)>", RegexOptions.CultureInvariant)]
    private static partial Regex From();

    [GeneratedRegex(@"\[(?<tag>[a-z-]+)\]\s*\z", RegexOptions.CultureInvariant)]
    private static partial Regex Tag();

    public static IntakeVerdict? Parse(string line, DateTimeOffset at)
    {
        Match m = Reject().Match(line);
        if (!m.Success)
        {
            return null;
        }
        string program = m.Groups["prog"].Value;
        string text = m.Groups["text"].Value;
        string status = m.Groups["status"].Value;
        RefusalReason? reason;
        if (m.Groups["kind"].Value == "milter-reject")
        {
            // Note: an unreachable milter is logged at CONNECT, EHLO and MAIL of one session;
            // the client is answered at MAIL, so that one line counts.
            if (m.Groups["stage"].Value is "CONNECT" or "EHLO" or "HELO")
            {
                return null;
            }
            // Note: the end-of-message verdict is logged by cleanup(8), which talks to the
            // milter on smtpd's behalf; earlier stages by smtpd itself.
            if (!program.EndsWith("/cleanup", StringComparison.Ordinal) && !program.EndsWith("/smtpd", StringComparison.Ordinal))
            {
                return null;
            }
            reason = Tag().Match(text) is { Success: true } tag ? FromTag(tag.Groups["tag"].Value)
                // Note: Postfix's own text when the milter is unreachable (milter_default_action = tempfail).
                : text.Contains("Service unavailable", StringComparison.OrdinalIgnoreCase) && status[0] == '4' ? RefusalReason.FilterUnavailable
                : RefusalReason.Spam;
        }
        else if (program.EndsWith("/postscreen", StringComparison.Ordinal))
        {
            // Note: "blocked using ZONE" follows the first ';' of the reply text.
            reason = m.Groups["fields"].Value.Contains(" blocked using ", StringComparison.Ordinal) ? RefusalReason.Dnsbl
                : text.Contains("Protocol error", StringComparison.Ordinal) ? RefusalReason.Pregreet
                : null;
        }
        else
        {
            // Note: smtpd's own refusals (unknown recipient, relay, size) are the front door's, not the border's.
            return null;
        }
        if (reason is null)
        {
            return null;
        }
        string fields = m.Groups["fields"].Value;
        string client = m.Groups["client"].Value;
        int open = client.LastIndexOf('[');
        string? address = open >= 0 && client.IndexOf(']', open) is var close and > 0 ? client[(open + 1)..close] : null;
        return new IntakeVerdict(
            at,
            reason.Value,
            status[0] == '5',
            m.Groups["code"].Success ? $"{m.Groups["code"].Value} {status}" : status,
            To().Match(fields) is { Success: true } to ? to.Groups["v"].Value : null,
            From().Match(fields) is { Success: true } from ? from.Groups["v"].Value : null,
            address);
    }

    private static RefusalReason? FromTag(string tag) => tag switch
    {
        "spam" => RefusalReason.Spam,
        "dmarc" => RefusalReason.Dmarc,
        "spf" => RefusalReason.Spf,
        "dnsbl" => RefusalReason.Dnsbl,
        "virus" => RefusalReason.Virus,
        "dnstemp" => RefusalReason.DnsTemporary,
        _ => RefusalReason.Spam,
    };
}
