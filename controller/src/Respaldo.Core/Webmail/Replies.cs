namespace Respaldo.Webmail;

/// <summary>Subjects of replies and forwards, as mail clients write them.</summary>
public static class Replies
{
    /// <summary>"Re: subject", without stacking "Re: Re:" (any case, Spanish "RE:" too).</summary>
    public static string ReplySubject(string? subject) => Prefixed("Re: ", subject, "re:");

    /// <summary>"Fwd: subject", without stacking.</summary>
    public static string ForwardSubject(string? subject) => Prefixed("Fwd: ", subject, "fwd:", "fw:", "rv:");

    private static string Prefixed(string prefix, string? subject, params string[] known)
    {
        string s = (subject ?? "").Trim();
        return known.Any(k => s.StartsWith(k, StringComparison.OrdinalIgnoreCase)) ? s : prefix + s;
    }
}
