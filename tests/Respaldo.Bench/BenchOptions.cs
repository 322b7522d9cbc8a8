using System.Globalization;

namespace Respaldo.Bench;

/// <summary>
/// What the run measures, from the environment. The defaults are the figures issue 3 asks
/// for; smaller values are only for trying the benchmark itself out (and for the bench tier's
/// smoke run, which only checks that the run completes).
/// </summary>
public sealed record BenchOptions(
    int Messages,
    int MessageSize,
    int EmptyMailboxes,
    TimeSpan Idle,
    long LargeMessageBytes,
    string LabDirectory,
    int? PortBase,
    bool Keep,
    TimeSpan PhaseTimeout,
    int SinkMessages,
    int SinkRuns,
    int RealRuns)
{
    public static BenchOptions FromEnvironment() => new(
        Messages: Int("BENCH_MESSAGES", 5000),
        MessageSize: Int("BENCH_MESSAGE_SIZE", 10 * 1024),
        EmptyMailboxes: Int("BENCH_MAILBOXES", 1000),
        Idle: TimeSpan.FromSeconds(Int("BENCH_IDLE_SECONDS", 60)),
        LargeMessageBytes: Int("BENCH_LARGE_MIB", 50) * 1024L * 1024L,
        LabDirectory: Environment.GetEnvironmentVariable("BENCH_LAB_DIR") is { Length: > 0 } dir ? dir : "/var/tmp/respaldo-bench",
        PortBase: Environment.GetEnvironmentVariable("BENCH_PORT_BASE") is { Length: > 0 } b ? int.Parse(b, CultureInfo.InvariantCulture) : null,
        Keep: Environment.GetEnvironmentVariable("BENCH_KEEP") == "1",
        PhaseTimeout: TimeSpan.FromSeconds(Int("BENCH_TIMEOUT_SECONDS", 300)),
        // Note: issue 14's honest reference: enough messages that start-up and the last stragglers
        // weigh little, and a median of runs on a machine others share.
        SinkMessages: Int("BENCH_SINK_MESSAGES", 50_000),
        SinkRuns: Math.Max(1, Int("BENCH_SINK_RUNS", 3)),
        // Note: the real primary's two rates swing 20 % from run to run on a shared 2-core
        // machine (its disk's fsyncs most of all); each round measures both seconds apart.
        RealRuns: Math.Max(1, Int("BENCH_REAL_RUNS", 3)));

    private static int Int(string name, int fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
}
