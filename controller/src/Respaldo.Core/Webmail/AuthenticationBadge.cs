using MimeKit;
using MimeKit.Cryptography;

namespace Respaldo.Webmail;

/// <summary>
/// What the backup's border found about a stored message's sender (SPF, DKIM, DMARC), read
/// from the Authentication-Results header the backup itself prepended, for the webmail's badge
/// ("is this forged?"). Pure.
/// </summary>
/// <remarks>
/// Note: only the topmost Authentication-Results counts, and only when its authserv-id is the
/// backup's own host name (RFC 8601 §5): rspamd prepends ours above every header that came
/// with the message, so a header a sender forged with our name sits below it and is ignored;
/// a message stored without ours (filtering off) shows "not checked" rather than a forgery.
/// </remarks>
public sealed record AuthenticationBadge(string Spf, string Dkim, string Dmarc)
{
    public const string NotChecked = "none";

    public static AuthenticationBadge? From(HeaderList headers, string authservId)
    {
        if (Own(headers, authservId) is not { } results)
        {
            return null;
        }
        string Of(string method) =>
            results.Results.FirstOrDefault(r => string.Equals(r.Method, method, StringComparison.OrdinalIgnoreCase))?.Result?.ToLowerInvariant() ?? NotChecked;
        return new AuthenticationBadge(Of("spf"), Of("dkim"), Of("dmarc"));
    }

    /// <summary>
    /// The topmost Authentication-Results when the backup's own border wrote it (authserv-id
    /// <paramref name="authservId"/>), or null: the only one whose word counts.
    /// </summary>
    public static AuthenticationResults? Own(HeaderList headers, string authservId)
    {
        Header? top = headers.FirstOrDefault(h => h.Id == HeaderId.AuthenticationResults);
        return top is not null && AuthenticationResults.TryParse(top.RawValue, out AuthenticationResults? results)
            && string.Equals(results.AuthenticationServiceIdentifier, authservId, StringComparison.OrdinalIgnoreCase)
            ? results
            : null;
    }

    /// <summary>The English words (a text key) for a result.</summary>
    public static string Words(string result) => result switch
    {
        "pass" => "passed",
        "fail" => "FAILED",
        "softfail" => "soft fail",
        "neutral" => "neutral",
        "temperror" => "temporary error",
        "permerror" => "permanent error",
        "policy" => "policy",
        _ => "absent",
    };

    /// <summary>pass → ok; fail, softfail, permerror → bad; anything else (none, neutral, temperror) → neutral.</summary>
    public static string Tone(string result) => result switch
    {
        "pass" => "ok",
        "fail" or "softfail" or "permerror" or "policy" => "bad",
        _ => "neutral",
    };
}
