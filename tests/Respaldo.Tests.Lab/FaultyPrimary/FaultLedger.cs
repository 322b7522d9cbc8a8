using System.Collections.Concurrent;

namespace Respaldo.Tests.Faults;

/// <summary>
/// What the faulty primary actually did: each fault counted when it took effect (a fault
/// planned for the third message of a session that carried one never did), and every message
/// whose final dot reached the real primary while its reply never reached the controller.
/// Those are the "ambiguous" deliveries: the primary may well have the message while the
/// controller, rightly, still keeps its copy and will send it again (a duplicate, never a loss).
/// </summary>
public sealed class FaultLedger
{
    private readonly ConcurrentDictionary<string, int> _labels = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<FaultKind, int> _kinds = new();
    private readonly ConcurrentQueue<AmbiguousDelivery> _ambiguous = new();
    private int _connections;
    private int _refusalPhases;

    public int Connections => _connections;

    /// <summary>Phases during which nothing listened (connections refused by the kernel, not counted one by one).</summary>
    public int RefusalPhases => _refusalPhases;

    public int Total => _kinds.Values.Sum();

    public IReadOnlyDictionary<FaultKind, int> ByKind => _kinds;

    public IReadOnlyDictionary<string, int> ByLabel => _labels;

    public IReadOnlyCollection<AmbiguousDelivery> Ambiguous => _ambiguous.ToArray();

    public int Count(FaultKind kind) => _kinds.GetValueOrDefault(kind);

    internal void Connected() => Interlocked.Increment(ref _connections);

    internal void RefusalPhase()
    {
        Interlocked.Increment(ref _refusalPhases);
        _kinds.AddOrUpdate(FaultKind.RefuseConnections, 1, (_, n) => n + 1);
        _labels.AddOrUpdate("RefuseConnections (phases)", 1, (_, n) => n + 1);
    }

    internal void Took(FaultPlan plan)
    {
        _kinds.AddOrUpdate(plan.Kind, 1, (_, n) => n + 1);
        _labels.AddOrUpdate(plan.Label, 1, (_, n) => n + 1);
    }

    internal void AmbiguousDelivery(AmbiguousDelivery delivery) => _ambiguous.Enqueue(delivery);

    /// <summary>One line per fault label, for the run's report.</summary>
    public string Describe() =>
        string.Join(", ", _labels.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}"));
}

/// <summary>A message the real primary got entirely (final dot forwarded) whose reply the controller never saw.</summary>
/// <param name="Reply">The primary's reply, when it came before the session was cut; null when it was cut first.</param>
public sealed record AmbiguousDelivery(string Sender, string Recipient, string? Reply, string Why)
{
    /// <summary>True when the primary said 2xx (it certainly has the message) or may have (no reply seen).</summary>
    public bool MayBeAtThePrimary => Reply is null || Reply.StartsWith('2');
}
