using Respaldo.Configuration;
using Respaldo.Primary;

namespace Respaldo.Continuity;

/// <summary>
/// Runs the set-up check of one tenant: <see cref="SetupFactGatherer"/> gathers the facts
/// (DNS, the primary, the disk), <see cref="SetupEvaluator"/> judges them.
/// </summary>
public sealed class SetupChecker(TimeProvider time)
{
    /// <summary>Each DNS question's wait; with one retry, a silent resolver costs a name about twice this.</summary>
    public static readonly TimeSpan DnsTimeout = TimeSpan.FromSeconds(3);

    /// <param name="lastDrill">The tenant's last fire drill, from the journal (null: none has run).</param>
    public async Task<SetupReport> CheckAsync(RespaldoSettings settings, Tenant tenant, long usedBytes, CancellationToken cancellationToken, Journaling.DrillRecord? lastDrill = null)
    {
        var gatherer = new SetupFactGatherer(settings.Dns.Resolvers, DnsTimeout);
        var prober = new PrimaryProber(settings.Hostname, settings.Controller.CommandTimeout, time);
        SetupFacts facts = await gatherer.GatherAsync(settings, tenant, prober, usedBytes, cancellationToken).ConfigureAwait(false);
        return SetupEvaluator.Evaluate(facts with { LastDrill = lastDrill }, time.GetUtcNow());
    }
}
