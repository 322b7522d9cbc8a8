namespace Respaldo.Tests.Faults;

/// <summary>
/// The faults a seed stands for. Connections are dealt plans from shuffled decks: each deck
/// holds every per-session fault once and <c>passes</c> clean sessions, so every fault shows
/// up again and again in a long run, in an order the seed decides. The n-th connection of a
/// run always gets the same plan for the same seed; which session of the controller that is
/// depends on timing, which no seed controls.
/// </summary>
public sealed class FaultSchedule
{
    private static readonly FaultKind[] PerSession =
    [
        FaultKind.SilentAccept, FaultKind.Greet421, FaultKind.Greet554, FaultKind.DropBeforeGreeting,
        FaultKind.DropAfterMail, FaultKind.DropAfterRcpt, FaultKind.DropMidData, FaultKind.DropAfterDot,
        FaultKind.Stall, FaultKind.TransientReply, FaultKind.Trickle,
    ];

    private static readonly FaultPoint[] StallPoints = [FaultPoint.Greeting, FaultPoint.Mail, FaultPoint.MidData, FaultPoint.EndOfData];
    private static readonly FaultPoint[] ReplyPoints = [FaultPoint.Mail, FaultPoint.Rcpt, FaultPoint.EndOfData];
    private static readonly int[] ReplyCodes = [451, 452, 421];

    private readonly Random _random;
    private readonly int _passes;
    private readonly Queue<FaultPlan> _deck = new();
    private readonly object _lock = new();

    /// <param name="passes">Clean sessions per deck (per 11 faulty ones).</param>
    public FaultSchedule(int seed, int passes = 22)
    {
        _random = new Random(seed);
        _passes = passes;
    }

    /// <summary>All the per-session faults a deck deals (every one must be seen in a chaos run).</summary>
    public static IReadOnlyList<FaultKind> Kinds => PerSession;

    public FaultPlan Next()
    {
        lock (_lock)
        {
            if (_deck.Count == 0)
            {
                Deal();
            }
            return _deck.Dequeue();
        }
    }

    private void Deal()
    {
        var deck = PerSession.Select(Plan).Concat(Enumerable.Repeat(FaultPlan.Pass, _passes)).ToArray();
        _random.Shuffle(deck);
        foreach (FaultPlan p in deck)
        {
            _deck.Enqueue(p);
        }
    }

    /// <summary>A plan of the given kind with its details drawn from the seed.</summary>
    public FaultPlan Plan(FaultKind kind)
    {
        int transaction = _random.Next(0, 3);
        return kind switch
        {
            FaultKind.Stall => new FaultPlan(kind, StallPoints[_random.Next(StallPoints.Length)], transaction, DataBytes: _random.Next(0, 256 * 1024)),
            FaultKind.TransientReply => new FaultPlan(kind, ReplyPoints[_random.Next(ReplyPoints.Length)], transaction, Code: ReplyCodes[_random.Next(ReplyCodes.Length)]),
            FaultKind.DropMidData => new FaultPlan(kind, FaultPoint.MidData, transaction, DataBytes: _random.Next(0, 256 * 1024)),
            FaultKind.DropAfterMail => new FaultPlan(kind, FaultPoint.Mail, transaction),
            FaultKind.DropAfterRcpt => new FaultPlan(kind, FaultPoint.Rcpt, transaction),
            FaultKind.DropAfterDot => new FaultPlan(kind, FaultPoint.EndOfData, transaction),
            FaultKind.Trickle => new FaultPlan(kind, TrickleFor: TimeSpan.FromMilliseconds(_random.Next(500, 3000))),
            _ => new FaultPlan(kind),
        };
    }

    /// <summary>A draw in [min, max) from the schedule's own sequence (phase lengths, kill times).</summary>
    public double Uniform(double min, double max)
    {
        lock (_lock)
        {
            return min + (_random.NextDouble() * (max - min));
        }
    }

    public int Pick(int count)
    {
        lock (_lock)
        {
            return _random.Next(count);
        }
    }
}
