namespace Respaldo.Health;

/// <summary>
/// The one answer to "is a loop stuck?", asked by the systemd watchdog (it stops pinging) and by
/// <c>/healthz</c> (it answers 503): the names of the heartbeats whose deadline has passed.
/// docs/ARCHITECTURE.md, "Liveness".
/// </summary>
public sealed record Liveness(IReadOnlyList<string> Overdue)
{
    public bool IsAlive => Overdue.Count == 0;

    /// <summary>What <c>/healthz</c> says: "ok", or "stuck: " and the loops that stopped beating.</summary>
    public string Text => IsAlive ? "ok\n" : "stuck: " + string.Join(", ", Overdue) + "\n";

    public static Liveness Of(IEnumerable<Heartbeat> beats, DateTimeOffset now) => new(Heartbeat.Overdue(beats, now));
}
