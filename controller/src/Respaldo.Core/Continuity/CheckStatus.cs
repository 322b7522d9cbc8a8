namespace Respaldo.Continuity;

/// <summary>What one set-up check found.</summary>
public enum CheckStatus
{
    /// <summary>As it should be.</summary>
    Ok,
    /// <summary>Works, but something is weaker than it should be (a sender or the primary may still refuse).</summary>
    Warning,
    /// <summary>Mail would not reach the backup, or not get from it to the primary.</summary>
    Failing,
    /// <summary>
    /// The answer could not be learned now (a DNS timeout or SERVFAIL, a probe that could not run).
    /// Note: never counted as ok: a check that did not run proves nothing.
    /// </summary>
    CouldNotCheck,
}
