using Respaldo.Configuration;
using Respaldo.Primary;

namespace Respaldo.Continuity;

/// <summary>
/// Everything the set-up checks look at for one tenant, gathered by <see cref="SetupFactGatherer"/>
/// (the I/O); the evaluators only read it, so each is tested with facts made by hand.
/// </summary>
public sealed record SetupFacts(
    Tenant Tenant,
    long MessageSizeLimit,
    IReadOnlyList<DomainFacts> Domains,
    BackupFacts Backup,
    IReadOnlyList<ProbeResult> Probes,
    ConfigurationFacts Configuration)
{
    /// <summary>The backup's STARTTLS certificate; null when none is configured.</summary>
    public CertificateFacts? Certificate { get; init; }

    /// <summary>The TLSA records of <c>_25._tcp.</c> the backup's name (DANE); none when not published.</summary>
    public Lookup<TlsaRecordFact> Tlsa { get; init; } = Lookups.None<TlsaRecordFact>();

    /// <summary>Each domain's MTA-STS records and policy (RFC 8461); <c>*.</c> patterns are not asked.</summary>
    public IReadOnlyList<MtaStsFacts> MtaSts { get; init; } = [];

    /// <summary>The tenant's last fire drill (the journal's table drills); null when none has run.</summary>
    public Journaling.DrillRecord? LastDrill { get; init; }
}
