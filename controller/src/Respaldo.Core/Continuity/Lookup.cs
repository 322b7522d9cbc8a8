namespace Respaldo.Continuity;

/// <summary>How a DNS question ended.</summary>
public enum LookupOutcome
{
    /// <summary>Records of the type asked for.</summary>
    Found,
    /// <summary>The name does not exist (NXDOMAIN) or has no records of that type (NODATA): an answer.</summary>
    None,
    /// <summary>No answer: a timeout, SERVFAIL, REFUSED. Note: not an absence; the checks say "could not check".</summary>
    Failed,
}

/// <summary>The answer to one DNS question: its outcome, the records when found, and the error when it failed.</summary>
public sealed record Lookup<T>(LookupOutcome Outcome, IReadOnlyList<T> Records, string Error);
