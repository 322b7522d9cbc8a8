using System.Globalization;
using System.Text.RegularExpressions;
using Respaldo.Tests.Lab;
using Xunit.Abstractions;

namespace Respaldo.Tests.Benchmark;

/// <summary>
/// 'make bench-scale' must not rot either: the benchmark program in its 'scale' mode, run as
/// tests/bench/run runs it, with tiny knobs (3 tenants, 30 mailboxes, 500 waiting messages, 2 idle
/// seconds) in its own lab directory and ports: every phase (render, fill, start-ups, idle, the
/// policy socket, a requested rescan, SMTP intake, the hand-over) runs against the real lab, in
/// well under a minute. Note: only completion is asserted (exit 0, the table with its rows, the
/// last "bench-scale: ..." line), never a figure.
/// </summary>
[Collection("Benchmark program")]
public sealed partial class ScaleBenchmarkSmokeTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string> Knobs = new()
    {
        ["BENCH_SCALE_TENANTS"] = "3",
        ["BENCH_SCALE_MAILBOXES"] = "30",
        ["BENCH_SCALE_MESSAGES"] = "500",
        ["BENCH_SCALE_SMTP"] = "20",
        ["BENCH_SCALE_RCPT"] = "100",
        ["BENCH_SCALE_IDLE_SECONDS"] = "2",
        ["BENCH_SCALE_WARMUP_SECONDS"] = "0",
        // Note: every phase of 500 messages takes seconds; a stuck one fails within a minute.
        ["BENCH_SCALE_TIMEOUT_SECONDS"] = "60",
    };

    [Fact]
    public async Task CompletesAndPrintsItsTableAndLastLine()
    {
        string directory = Path.Combine("/var/tmp", $"respaldo-test-bench-scale-{Environment.ProcessId}");
        var environment = new Dictionary<string, string>(Knobs)
        {
            ["BENCH_SCALE_LAB_DIR"] = directory,
            // Note: away from 'make bench' (13000 up), the other smoke run (15000 up) and the lab fixtures (20000 up).
            ["BENCH_SCALE_PORT_BASE"] = LabPorts.RandomFreeBase(10000, 20).ToString(CultureInfo.InvariantCulture),
        };
        output.WriteLine(string.Join(' ', environment.Select(e => $"{e.Key}={e.Value}")));

        ProcessRunner.Result run;
        try
        {
            run = await ProcessRunner.RunAsync("dotnet", [BenchmarkSmokeTests.BenchProgram(), "scale"], environment, timeout: TimeSpan.FromMinutes(4));
        }
        finally
        {
            await BenchmarkSmokeTests.SweepAsync(directory);
        }
        output.WriteLine(run.Output);
        output.WriteLine(run.Error);
        string results = Path.Combine(RepoPaths.Root, "test-results");
        Directory.CreateDirectory(results);
        await File.WriteAllTextAsync(Path.Combine(results, "bench-scale-smoke.txt"), run.Output + run.Error);

        Assert.True(run.ExitCode == 0, $"the benchmark failed: {run}");
        List<string> lines = run.Output.Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0).ToList();
        Assert.Contains(lines, l => TableHead().IsMatch(l));
        foreach (string row in new[]
        {
            "respaldoctl render", "postfix reload", "controller start -> first full scan", "idle CPU", "resident memory per waiting message",
            "policy RCPT", "full rescan", "inotify:", "SMTP intake", "controller start -> first message handed over",
            "hand-over rate, first 10 %", "hand-over rate, last 10 %", "hand-over, while every tenant had mail left", "journal size",
        })
        {
            Assert.Contains(lines, l => l.StartsWith(row, StringComparison.Ordinal));
        }
        Assert.Matches(LastLine(), lines[^1]);
    }

    [GeneratedRegex(@"^measurement\s+Respaldo\s+reference \(same run\)\s+target$")]
    private static partial Regex TableHead();

    // Note: the shape of the line, not its figures.
    [GeneratedRegex(@"^bench-scale: tenants=\d+ mailboxes=\d+ waiting=\d+ render=\S+s reload=\S+s ready=\S+s first-handover=\S+s rss/msg=\S+B rescan=\S+s\(\S+s cpu\) idle=\S+%/\S+% rcpt-p99=\S+/\S+ms handover=\S+/\S+msg/s inotify=\d+/\d+dirs\(limit \d+\) journal=\S+MiB$")]
    private static partial Regex LastLine();
}
