using System.Globalization;

namespace Respaldo.Bench.Scale;

/// <summary>
/// What 'make bench-scale' (issue 14, item 1) sets up and measures, from the environment. The
/// defaults are the provider's node the issue describes; smaller values are for developing and
/// for the bench tier's smoke run, which asserts only that the run completes.
/// </summary>
public sealed record ScaleOptions(
    int Tenants,
    int Mailboxes,
    int Messages,
    int MessageSize,
    int SmtpSlice,
    int RcptRequests,
    TimeSpan Idle,
    TimeSpan WarmUp,
    string LabDirectory,
    int? PortBase,
    bool Keep,
    TimeSpan PhaseTimeout)
{
    public static ScaleOptions FromEnvironment()
    {
        var o = new ScaleOptions(
            Tenants: Int("BENCH_SCALE_TENANTS", 1000),
            Mailboxes: Int("BENCH_SCALE_MAILBOXES", 100_000),
            Messages: Int("BENCH_SCALE_MESSAGES", 1_000_000),
            MessageSize: Int("BENCH_SCALE_MESSAGE_SIZE", 1024),
            SmtpSlice: Int("BENCH_SCALE_SMTP", 2000),
            RcptRequests: Int("BENCH_SCALE_RCPT", 2000),
            Idle: TimeSpan.FromSeconds(Int("BENCH_SCALE_IDLE_SECONDS", 60)),
            // Note: the runtime's tiered compilation (with dynamic PGO) recompiles the periodic
            // paths during the first minute or two after a start: a one-off, not the idle cost.
            WarmUp: TimeSpan.FromSeconds(Int("BENCH_SCALE_WARMUP_SECONDS", 120)),
            LabDirectory: Environment.GetEnvironmentVariable("BENCH_SCALE_LAB_DIR") is { Length: > 0 } dir ? dir : "/var/tmp/respaldo-bench-scale",
            PortBase: Environment.GetEnvironmentVariable("BENCH_SCALE_PORT_BASE") is { Length: > 0 } b ? int.Parse(b, CultureInfo.InvariantCulture) : null,
            Keep: Environment.GetEnvironmentVariable("BENCH_KEEP") == "1",
            PhaseTimeout: TimeSpan.FromSeconds(Int("BENCH_SCALE_TIMEOUT_SECONDS", 4 * 3600)));
        if (o.Tenants < 1 || o.Mailboxes < o.Tenants || o.Messages < 10 || o.SmtpSlice < 1 || o.RcptRequests < 10)
        {
            throw new InvalidOperationException(
                "BENCH_SCALE_TENANTS >= 1, BENCH_SCALE_MAILBOXES >= tenants, BENCH_SCALE_MESSAGES >= 10, BENCH_SCALE_SMTP >= 1, BENCH_SCALE_RCPT >= 10");
        }
        return o;
    }

    private static int Int(string name, int fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
}
