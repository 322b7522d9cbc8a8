using Respaldo.Journaling;
using Respaldo.HandOver;
using Respaldo.Primary;
using Respaldo.Events;

namespace Respaldo.Status;

/// <summary>One tenant at a glance: what the dashboard's overview, the JSON API and /metrics all show.</summary>
public sealed record TenantStatus(
    string TenantId,
    string Name,
    PrimaryStatus Primary,
    DateTimeOffset? PrimarySince,
    ProbeRow? LastProbe,
    int Waiting,
    long WaitingBytes,
    int ReceivedToday,
    int ReceivedThisOutage,
    int HandedOverToday,
    int HandedOverTotal,
    IReadOnlyList<HoldRow> Held,
    long HeldBytes,
    StorageStatus Storage,
    HandOverProgress? Current,
    HandOverProgress? Last)
{
    /// <summary>How many messages are held now (<c>Held</c> lists the newest page of them).</summary>
    public int HeldCount { get; init; }

    /// <summary>The border's refusals and deferrals: today (UTC) and since the primary went down.</summary>
    public BorderCounts Border { get; init; } = BorderCounts.Empty;

    /// <summary>
    /// The tenant's domains whose primary accepted a random address at its last catch-all probe:
    /// recipients are not learned from it (only the listed mailboxes and the recipients file count).
    /// </summary>
    public IReadOnlyList<CatchAllDomain> CatchAll { get; init; } = [];
}

/// <summary>A domain whose primary accepts any address: when it was found, with which random address, and its reply.</summary>
public sealed record CatchAllDomain(string Domain, DateTimeOffset CheckedAt, string Probe, string Reply);

/// <summary>The border's verdicts of a tenant, counted by reason, for two periods.</summary>
public sealed record BorderCounts(IReadOnlyList<BorderCount> Today, IReadOnlyList<BorderCount> ThisOutage)
{
    public static BorderCounts Empty { get; } = new([], []);

    public long RefusedToday => Today.Where(c => c.Permanent).Sum(c => c.Count);

    public long DeferredToday => Today.Where(c => !c.Permanent).Sum(c => c.Count);
}

/// <summary>How many messages the border refused (5xx) or deferred (4xx) for one reason.</summary>
public sealed record BorderCount(string Reason, bool Permanent, long Count);

public sealed record StorageStatus(long Used, long Limit, long DiskTotal, long DiskFree, long MinimumFree)
{
    public double Fraction => Limit <= 0 ? 0 : (double)Used / Limit;
    public bool DiskLow => DiskTotal > 0 && DiskFree < MinimumFree;
}

public sealed record MailboxStatus(string Address, int Count, long Bytes, long? Quota);

/// <summary>A chart's data: messages waiting at the end of each bucket, and the primary's state in it (null: no probe yet).</summary>
public sealed record ChartSeries(DateTimeOffset Start, TimeSpan Bucket, IReadOnlyList<int> Waiting, IReadOnlyList<bool?> PrimaryUp);
