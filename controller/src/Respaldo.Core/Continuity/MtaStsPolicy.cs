using System.Globalization;

namespace Respaldo.Continuity;

/// <summary>How a sender applies an MTA-STS policy (RFC 8461 §5).</summary>
public enum MtaStsMode
{
    /// <summary>Deliver only to a listed MX with a valid certificate.</summary>
    Enforce,
    /// <summary>Deliver anyway, but report (TLSRPT) what would have failed.</summary>
    Testing,
    /// <summary>No policy: the domain is leaving MTA-STS.</summary>
    None,
}

/// <summary>
/// An MTA-STS policy as served at <c>https://mta-sts.DOMAIN/.well-known/mta-sts.txt</c>
/// (RFC 8461 §3.2): its mode, its <c>mx:</c> patterns and its <c>max_age</c> in seconds.
/// </summary>
public sealed record MtaStsPolicy(MtaStsMode Mode, IReadOnlyList<string> Mx, long MaxAge)
{
    /// <summary>The largest max_age a policy may give (RFC 8461 §3.2: 31557600 seconds, about a year).</summary>
    public const long MaxMaxAge = 31_557_600;

    /// <summary>
    /// Parses a policy body: "key: value" lines (CRLF, or LF as many servers send), <c>version: STSv1</c>,
    /// <c>mode</c>, <c>max_age</c>, and <c>mx</c> once or more (unless the mode is none); unknown keys are
    /// ignored (§3.2: extensions). Null with the reason when a sender would not accept it.
    /// </summary>
    public static MtaStsPolicy? Parse(string body, out string error)
    {
        string? version = null, mode = null, maxAge = null;
        var mx = new List<string>();
        foreach (string raw in body.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (line.Trim().Length == 0)
            {
                continue;
            }
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                error = $"the line \"{line}\" is not \"key: value\"";
                return null;
            }
            string key = line[..colon].Trim();
            string value = line[(colon + 1)..].Trim();
            switch (key)
            {
                case "version": version ??= value; break;
                case "mode": mode ??= value; break;
                case "max_age": maxAge ??= value; break;
                case "mx": mx.Add(value.ToLowerInvariant()); break;
            }
        }
        if (version != "STSv1")
        {
            error = version is null ? "no \"version: STSv1\" line" : $"version \"{version}\", not STSv1";
            return null;
        }
        MtaStsMode? parsed = mode switch
        {
            "enforce" => MtaStsMode.Enforce,
            "testing" => MtaStsMode.Testing,
            "none" => MtaStsMode.None,
            _ => null,
        };
        if (parsed is not { } m)
        {
            error = mode is null ? "no \"mode:\" line" : $"mode \"{mode}\" is none of enforce, testing, none";
            return null;
        }
        if (maxAge is null || !long.TryParse(maxAge, NumberStyles.None, CultureInfo.InvariantCulture, out long seconds) || seconds > MaxMaxAge)
        {
            error = maxAge is null ? "no \"max_age:\" line" : $"max_age \"{maxAge}\" is not a number of seconds up to {MaxMaxAge.ToString(CultureInfo.InvariantCulture)}";
            return null;
        }
        if (mx.Count == 0 && m != MtaStsMode.None)
        {
            error = "no \"mx:\" line";
            return null;
        }
        error = "";
        return new MtaStsPolicy(m, mx, seconds);
    }

    /// <summary>
    /// True when an <c>mx:</c> pattern names <paramref name="host"/>: the same name, or <c>*.</c> and
    /// exactly one leftmost label more (RFC 8461 §4.1, as RFC 6125's wildcard).
    /// </summary>
    public static bool Matches(string pattern, string host) => CertificateChecks.Covers(pattern, host);

    public static string ModeText(MtaStsMode mode) => mode switch
    {
        MtaStsMode.Enforce => "enforce",
        MtaStsMode.Testing => "testing",
        _ => "none",
    };
}
