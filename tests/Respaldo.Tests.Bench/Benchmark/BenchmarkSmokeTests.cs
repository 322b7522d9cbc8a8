using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Respaldo.Tests.Lab;
using Xunit.Abstractions;

namespace Respaldo.Tests.Benchmark;

/// <summary>
/// 'make bench' must not rot: the benchmark program itself (tests/Respaldo.Bench), run the way
/// tests/bench/run runs it, with tiny knobs (300 messages, 20 empty mailboxes, 3 idle seconds, a
/// 2 MiB large message) in its own lab directory and ports. Every phase runs against the real
/// lab, so a change to the lab, the controller or the benchmark that breaks the full run breaks
/// this one too, in about a minute. Note: only completion is asserted (exit 0, the table with
/// a row for each of (a)-(f), the last "bench: ..." line), never a figure: the targets are
/// reported, not asserted, and a shared machine misses them at random.
/// </summary>
// Note: one collection with ScaleBenchmarkSmokeTests, so the two labs never share the 2 cores at once.
[Collection("Benchmark program")]
public sealed partial class BenchmarkSmokeTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string> Knobs = new()
    {
        ["BENCH_MESSAGES"] = "300",
        ["BENCH_MAILBOXES"] = "20",
        ["BENCH_IDLE_SECONDS"] = "3",
        ["BENCH_LARGE_MIB"] = "2",
        // Note: the sink reference's three runs, of 300 messages each.
        ["BENCH_SINK_MESSAGES"] = "300",
        // Note: a phase of 300 messages takes seconds; a stuck one fails within a minute.
        ["BENCH_TIMEOUT_SECONDS"] = "60",
    };

    [Fact]
    public async Task CompletesAndPrintsItsTableAndLastLine()
    {
        string directory = Path.Combine("/var/tmp", $"respaldo-test-bench-{Environment.ProcessId}");
        var environment = new Dictionary<string, string>(Knobs)
        {
            ["BENCH_LAB_DIR"] = directory,
            // Note: away from the benchmark's own search from 13000 ('make bench' beside this run)
            // and from the lab fixtures' 20000 and up.
            ["BENCH_PORT_BASE"] = LabPorts.RandomFreeBase(15000, 50).ToString(CultureInfo.InvariantCulture),
        };
        output.WriteLine(string.Join(' ', environment.Select(e => $"{e.Key}={e.Value}")));

        ProcessRunner.Result run;
        try
        {
            run = await ProcessRunner.RunAsync("dotnet", [BenchProgram()], environment, timeout: TimeSpan.FromMinutes(6));
        }
        finally
        {
            await SweepAsync(directory);
            await SweepAsync(directory + "-border");
        }
        output.WriteLine(run.Output);
        output.WriteLine(run.Error);
        string results = Path.Combine(RepoPaths.Root, "test-results");
        Directory.CreateDirectory(results);
        await File.WriteAllTextAsync(Path.Combine(results, "bench-smoke.txt"), run.Output + run.Error);

        Assert.True(run.ExitCode == 0, $"the benchmark failed: {run}");
        List<string> lines = run.Output.Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0).ToList();
        Assert.Contains(lines, l => TableHead().IsMatch(l));
        foreach (string row in new[] { "(a)", "(b)", "(c)", "(d)", "(e)", "(f)" })
        {
            Assert.Contains(lines, l => l.StartsWith(row + " ", StringComparison.Ordinal));
        }
        Assert.Matches(LastLine(), lines[^1]);
    }

    /// <summary>The Release build of the benchmark beside this tier's own (artifacts/bin/PROJECT/CONFIG/).</summary>
    internal static string BenchProgram()
    {
        string own = Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory);
        string bin = Path.GetDirectoryName(Path.GetDirectoryName(own))!;
        string program = Path.Combine(bin, "Respaldo.Bench", Path.GetFileName(own), "respaldo-bench.dll");
        Assert.True(File.Exists(program), $"no benchmark build at {program}: run 'make build' first");
        return program;
    }

    /// <summary>
    /// After a run that did not tear its lab down (killed at the timeout): stops its relay-mode
    /// Postfix and destroys its lab, as the benchmark's own start-up would.
    /// </summary>
    internal static async Task SweepAsync(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return;
        }
        string relay = Path.Combine(directory, "relay", "config");
        if (File.Exists(Path.Combine(relay, "main.cf")))
        {
            await ProcessRunner.RunAsync("postfix", ["-c", relay, "stop"]);
        }
        await ProcessRunner.RunAsync(Path.Combine(RepoPaths.Root, "deploy", "lab", "lab"), ["destroy"],
            new Dictionary<string, string> { ["LAB_DIR"] = directory });
    }

    [GeneratedRegex(@"^measurement\s+Respaldo\s+reference \(same run\)\s+target$")]
    private static partial Regex TableHead();

    // Note: the shape of the line, not its figures.
    [GeneratedRegex(@"^bench: first=\S+s last=\S+s realprimary=\S+x sink=\S+x\(postfix\) \S+x\(smtp-source\) rss\+\d+MB=\S+MiB idlecpu=\S+% intake=\S+x\(border\) rspamd=\d+MiB cpu/1k=\S+s\(respaldod\) \S+s\(smtp-source\) \S+/\S+s\(sink\)$")]
    private static partial Regex LastLine();
}
