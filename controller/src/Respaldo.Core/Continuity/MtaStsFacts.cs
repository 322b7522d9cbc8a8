namespace Respaldo.Continuity;

/// <summary>
/// What one domain publishes for MTA-STS (RFC 8461): the TXT records of <c>_mta-sts.DOMAIN</c>
/// that start <c>v=STSv1</c>, and, when there is one, the policy fetched from <see cref="PolicyUrl"/>
/// (null when it was not fetched because no record asked for it).
/// </summary>
public sealed record MtaStsFacts(string Domain, Lookup<string> Records, PolicyFetch? Policy)
{
    public string PolicyUrl => PolicyUrlOf(Domain);

    public static string PolicyUrlOf(string domain) => $"https://mta-sts.{domain}/.well-known/mta-sts.txt";
}

/// <summary>One fetch of a policy: the body when the server answered 200, else the reason it could not be had.</summary>
public sealed record PolicyFetch(bool Fetched, string Body, string Error)
{
    /// <summary>The media type the server gave the body ("" when none); RFC 8461 §3.3: text/plain.</summary>
    public string MediaType { get; init; } = "text/plain";
}
