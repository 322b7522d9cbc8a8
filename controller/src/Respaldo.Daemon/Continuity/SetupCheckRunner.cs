using Respaldo.Configuration;
using Respaldo.Continuity;
using Respaldo.Events;
using Respaldo.Supervision;

namespace Respaldo.Daemon.Continuity;

/// <summary>
/// Runs the set-up check of one tenant or all (all at once: each waits mostly on DNS and the
/// primary), keeps each report in <see cref="SetupReports"/> and logs what changed for the worse.
/// </summary>
public sealed partial class SetupCheckRunner(RespaldoRuntime runtime, SetupChecker checker, SetupReports reports, TimeProvider time, ILogger<SetupCheckRunner> logger)
{
    /// <summary>Longest a whole run may take (a silent resolver, a primary that never answers).</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    /// <summary>The reports of <paramref name="tenants"/>, in their order, each also kept as the tenant's last.</summary>
    public async Task<IReadOnlyList<SetupReport>> RunAsync(IReadOnlyList<Tenant> tenants, CancellationToken cancellationToken)
    {
        RespaldoSettings settings = runtime.Settings;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(Limit);
        SetupReport[] done = await Task.WhenAll(tenants.Select(t => OneAsync(settings, t, limit.Token, cancellationToken)));
        reports.KeepOnly(runtime.Settings.Tenants.Select(t => t.Id));
        return done;
    }

    private async Task<SetupReport> OneAsync(RespaldoSettings settings, Tenant tenant, CancellationToken limit, CancellationToken cancellationToken)
    {
        long used = runtime.Supervisor.Index.Totals(tenant.Id).Bytes;
        SetupReport report;
        try
        {
            IReadOnlyList<Journaling.DrillRecord> drills = runtime.Supervisor.Journal.Drills(tenant.Id, 1);
            Journaling.DrillRecord? lastDrill = drills.Count > 0 ? drills[0] : null;
            report = await checker.CheckAsync(settings, tenant, used, limit, lastDrill);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Note: out of time is "could not check", never a silent pass nor a lost report.
            report = Unfinished(tenant, $"the check did not finish within {Limit.TotalSeconds:0} s");
        }
#pragma warning disable CA1031 // Note: not swallowed: logged at error priority with the exception, and reported as "could not check".
        catch (Exception e) when (e is not OperationCanceledException)
#pragma warning restore CA1031
        {
            LogFailed(logger, tenant.Id, e);
            report = Unfinished(tenant, $"the check failed: {e.Message}");
        }
        SetupReport? before = reports.Last(tenant.Id);
        reports.Keep(report);
        foreach (SetupCheck c in report.Checks.Where(c => c.Status is CheckStatus.Failing or CheckStatus.Warning))
        {
            // Note: a fault is logged when it appears, not at every periodic run while it stays.
            if (before?.Checks.Any(b => b.Id == c.Id && b.Subject == c.Subject && b.Status == c.Status) != true)
            {
                LogFault(logger, tenant.Id, c.Id, c.Subject, c.StatusText, c.Seen, c.Fix);
            }
        }
        // Note: the alerts hear of it through the controller's events (a new fault at once, then daily: AlertPolicy).
        runtime.Events.Raise(new SetupChecked(tenant.Id, report.CheckedAt, report.Checks
            .Where(c => c.Alerts)
            .Select(c => new FailingSetupCheck(c.Id, c.Subject, c.Seen, c.Fix))
            .ToList()));
        LogRan(logger, tenant.Id, report.Checks.Count(c => c.Status == CheckStatus.Ok), report.Checks.Count(c => c.Status == CheckStatus.Warning),
            report.Checks.Count(c => c.Status == CheckStatus.Failing), report.Checks.Count(c => c.Status == CheckStatus.CouldNotCheck));
        return report;
    }

    private SetupReport Unfinished(Tenant tenant, string seen) => new(tenant.Id, time.GetUtcNow(),
    [
        new SetupCheck("check-completed", tenant.Id, CheckStatus.CouldNotCheck, seen,
            "a check that did not finish proves nothing", "check dns.resolvers and the primary's reachability, then check again"),
    ]);

    [LoggerMessage(EventId = 2204, Level = LogLevel.Error, Message = "set-up check: tenant {Tenant}: the check failed")]
    private static partial void LogFailed(ILogger logger, string tenant, Exception error);

    [LoggerMessage(EventId = 2200, Level = LogLevel.Information, Message = "set-up check: tenant {Tenant}: {Ok} ok, {Warnings} warnings, {Failing} failing, {Unchecked} could not be checked")]
    private static partial void LogRan(ILogger logger, string tenant, int ok, int warnings, int failing, int @unchecked);

    [LoggerMessage(EventId = 2201, Level = LogLevel.Warning, Message = "set-up check: tenant {Tenant}: {Check} {Subject} is {Status}: {Seen}; fix: {Fix}")]
    private static partial void LogFault(ILogger logger, string tenant, string check, string subject, string status, string seen, string fix);
}
