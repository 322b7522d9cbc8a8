using System.Globalization;

namespace Respaldo.Tests.ChaosLab;

/// <summary>
/// How big a chaos run is and which seed drives it. <c>make test</c> runs the short version;
/// <c>make chaos</c> sets CHAOS_FULL=1 for the full one (5,000 messages, a burst of 20,000).
/// CHAOS_SEED replays a run's faults, kills and messages.
/// </summary>
public static class ChaosSettings
{
    public static bool Full { get; } = Environment.GetEnvironmentVariable("CHAOS_FULL") == "1";

    public static int Seed { get; } = Environment.GetEnvironmentVariable("CHAOS_SEED") is { Length: > 0 } s
        ? int.Parse(s, CultureInfo.InvariantCulture)
        : Random.Shared.Next(1, int.MaxValue);

    public static string Scale => Full ? "full (make chaos)" : "short (make test)";

    /// <summary>Where the runs write their figures (the note quotes them).</summary>
    public static string ResultsDirectory
    {
        get
        {
            string dir = Path.Combine(RepoPaths.Root, "test-results");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    public static string CorpusDirectory => Path.Combine(RepoPaths.Root, "tests", "corpus", "hostile");
}
