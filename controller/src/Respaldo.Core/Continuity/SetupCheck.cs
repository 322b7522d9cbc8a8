namespace Respaldo.Continuity;

/// <summary>
/// One check of a tenant's set-up: <see cref="Id"/> names the check (stable: metrics, JSON and
/// the README's "Set-up check" use it), <see cref="Subject"/> what it looked at (a domain, an
/// address, a host), <see cref="Seen"/> what it found, <see cref="Why"/> why that matters, and
/// <see cref="Fix"/> the exact record to publish or setting to change ("" when nothing is to be done).
/// </summary>
public sealed record SetupCheck(string Id, string Subject, CheckStatus Status, string Seen, string Why, string Fix)
{
    /// <summary>The status as JSON, the control bus and the CLI write it: ok, warning, failing, could-not-check.</summary>
    public string StatusText => Label(Status);

    /// <summary>
    /// A warning that alerts all the same: the backup's certificate expired or within
    /// <see cref="CertificateChecks.RenewBefore"/> of its end (issue 15: "a warning, and an alert").
    /// </summary>
    /// <remarks>Note: waiting for a certificate's end to fail something is waiting for the outage; other warnings are for the page.</remarks>
    public bool AlertsAsWarning { get; init; }

    /// <summary>True when this check raises the <c>setup-failing</c> alert: every failing check, and a warning marked <see cref="AlertsAsWarning"/>.</summary>
    public bool Alerts => Status == CheckStatus.Failing || (Status == CheckStatus.Warning && AlertsAsWarning);

    public static string Label(CheckStatus status) => status switch
    {
        CheckStatus.Ok => "ok",
        CheckStatus.Warning => "warning",
        CheckStatus.Failing => "failing",
        _ => "could-not-check",
    };
}
