// respaldo-bench — issue 3's benchmark: how fast the controller hands a backlog over, against
// Postfix's own backup-MX queue on the same machine in the same run.
//
// SYNOPSIS
//   make bench            (or: tests/bench/run)
//   make bench-scale      (or: tests/bench/run scale; this program with the argument 'scale')
//
// DESCRIPTION
//   Starts its own lab (deploy/lab/lab: backup Postfix + Dovecot + controller, a real Postfix
//   primary) plus a relay-mode Postfix, then measures (a) seconds from the primary accepting
//   connections to the first and the last message delivered, (b) Respaldo's hand-over rate
//   against 'postqueue -f' into the same real primary (three rounds of both, each round an outage
//   of its own; the round of median ratio), (c) both into an smtp-sink primary, and
//   the reference: Respaldo against smtp-source into that sink, 50,000 messages a run, the
//   median of three runs a side, with each side's CPU per 1,000 messages, (d) the controller's peak RSS handing over a large
//   message, (e) its CPU over idle seconds with many empty mailboxes. Prints a table and, as
//   its last line, the ratios. Targets are reported, never asserted: the exit status is
//   non-zero only when the run itself failed (a phase timed out, mail went missing).
//   Environment: BENCH_MESSAGES (5000), BENCH_MESSAGE_SIZE (10240), BENCH_MAILBOXES (1000),
//   BENCH_IDLE_SECONDS (60), BENCH_LARGE_MIB (50), BENCH_REAL_RUNS (3), BENCH_SINK_MESSAGES (50000), BENCH_SINK_RUNS (3),
//   BENCH_LAB_DIR (/var/tmp/respaldo-bench),
//   BENCH_PORT_BASE (first free from 13000), BENCH_KEEP=1 (leave the lab running).
//   With 'scale', issue 14's benchmark instead (Scale/ScaleBenchmark.cs): N tenants, M mailboxes,
//   W waiting messages; BENCH_SCALE_TENANTS (1000), BENCH_SCALE_MAILBOXES (100000),
//   BENCH_SCALE_MESSAGES (1000000), BENCH_SCALE_MESSAGE_SIZE (1024), BENCH_SCALE_SMTP (2000),
//   BENCH_SCALE_RCPT (2000), BENCH_SCALE_IDLE_SECONDS (60), BENCH_SCALE_LAB_DIR
//   (/var/tmp/respaldo-bench-scale), BENCH_SCALE_PORT_BASE, BENCH_SCALE_TIMEOUT_SECONDS (14400).
//
// SECURITY
//   Runs as root (Postfix and Dovecot start as root and drop privileges; smtp-sink runs as the
//   postfix user). Everything listens on the loopback only; the lab is destroyed at the end.

using System.Globalization;
using System.Runtime.InteropServices;
using Respaldo.Bench;
using Respaldo.Bench.Scale;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

if (Environment.UserName != "root")
{
    Console.Error.WriteLine("bench: run as root: Postfix and Dovecot start as root");
    return 1;
}

// Note: Ctrl-C or a TERM must still tear the lab down; the run's finally does it.
using var interrupted = new CancellationTokenSource();
using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);

try
{
    if (args is ["scale"])
    {
        return await ScaleAsync(interrupted.Token);
    }
    BenchOptions options = BenchOptions.FromEnvironment();
    // Note: two runs in one lab directory would tear each other's lab down; FileShare.None
    // takes an exclusive flock(2) on the lock file, released (and the file removed) at the end.
    using FileStream exclusive = LockLabDirectory(options.LabDirectory);
    BenchLab lab = BenchLab.Create(options);
    var benchmark = new Benchmark(options, lab, line => Console.WriteLine($"bench: {line}"));
    Report report = await benchmark.RunAsync(interrupted.Token);
    Console.WriteLine();
    Console.Write(report);
    Console.WriteLine(benchmark.LastLine());
    return 0;
}
catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or OperationCanceledException)
{
    Console.Error.WriteLine($"bench: failed: {e.Message}");
    return 1;
}

// Issue 14's 'make bench-scale': one node for a provider (Scale/ScaleBenchmark.cs).
static async Task<int> ScaleAsync(CancellationToken cancel)
{
    ScaleOptions options = ScaleOptions.FromEnvironment();
    using FileStream exclusive = LockLabDirectory(options.LabDirectory);
    BenchLab lab = BenchLab.Create(options.LabDirectory, options.PortBase, "BENCH_SCALE_PORT_BASE");
    var benchmark = new ScaleBenchmark(options, lab, line => Console.WriteLine($"bench-scale: {line}"));
    try
    {
        Report report = await benchmark.RunAsync(cancel);
        Console.WriteLine();
        Console.Write(report);
        Console.WriteLine(benchmark.LastLine());
        return 0;
    }
    catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or OperationCanceledException)
    {
        // Note: a run of hours that fails or is stopped late still shows what it measured.
        Console.WriteLine();
        Console.WriteLine("bench-scale: INCOMPLETE, the table so far:");
        Console.Write(benchmark.Report);
        Console.WriteLine(benchmark.LastLine());
        throw;
    }
    finally
    {
        await benchmark.TearDownAsync();
    }
}

static FileStream LockLabDirectory(string directory)
{
    string path = Path.GetFullPath(directory) + ".lock";
    try
    {
        return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
    }
    catch (IOException)
    {
        throw new InvalidOperationException($"another benchmark runs in {directory} ({path} is locked)");
    }
}

void Interrupt(PosixSignalContext context)
{
    context.Cancel = true;
    interrupted.Cancel();
}
