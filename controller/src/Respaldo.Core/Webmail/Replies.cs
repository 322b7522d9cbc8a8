using System.Globalization;
using System.Text;

namespace Respaldo.Webmail;

/// <summary>
/// A reply's threading headers (In-Reply-To and References) and where it goes in a thread.
/// Both are null/empty when the parent has no Message-ID: nothing to thread under.
/// </summary>
public sealed record ReplyThread(string? InReplyTo, IReadOnlyList<string> References);

/// <summary>Subjects, threading and quoted text of replies and forwards, as mail clients write them.</summary>
public static class Replies
{
    /// <summary>"Re: subject", without stacking "Re: Re:" (any case, Spanish "RE:" too).</summary>
    public static string ReplySubject(string? subject) => Prefixed("Re: ", subject, "re:");

    /// <summary>"Fwd: subject", without stacking.</summary>
    public static string ForwardSubject(string? subject) => Prefixed("Fwd: ", subject, "fwd:", "fw:", "rv:");

    /// <summary>
    /// RFC 5322 §3.6.4: In-Reply-To is the parent's Message-ID; References is the parent's
    /// References (or, when it has none, its In-Reply-To) followed by the parent's Message-ID.
    /// A parent without a Message-ID gives no threading headers at all.
    /// </summary>
    public static ReplyThread ThreadUnder(string? parentMessageId, IEnumerable<string> parentReferences, string? parentInReplyTo)
    {
        if (parentMessageId is null)
        {
            return new ReplyThread(null, []);
        }
        var references = new List<string>(parentReferences);
        if (references.Count == 0 && parentInReplyTo is { } grand)
        {
            references.Add(grand);
        }
        references.Add(parentMessageId);
        return new ReplyThread(parentMessageId, references);
    }

    /// <summary>
    /// The quoted original under a reply: a line "DATE, SENDER:" (the date as the web pages
    /// write it, "yyyy-MM-dd HH:mm:ss UTC"; left out when the original has none), then every
    /// line of the text behind "> ", each ending in LF (CRLF in the text becomes LF).
    /// </summary>
    public static string Quote(DateTimeOffset? date, string sender, string body)
    {
        var text = new StringBuilder();
        string when = date is { } d ? d.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC, " : "";
        text.Append(CultureInfo.InvariantCulture, $"{when}{sender}:\n");
        foreach (string line in body.Replace("\r\n", "\n").Split('\n'))
        {
            text.Append("> ").Append(line).Append('\n');
        }
        return text.ToString();
    }

    private static string Prefixed(string prefix, string? subject, params string[] known)
    {
        string s = (subject ?? "").Trim();
        return known.Any(k => s.StartsWith(k, StringComparison.OrdinalIgnoreCase)) ? s : prefix + s;
    }
}
