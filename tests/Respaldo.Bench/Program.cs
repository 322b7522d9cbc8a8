// respaldo-bench — issue 3's benchmark: how fast the controller hands a backlog over, against
// Postfix's own backup-MX queue on the same machine in the same run.
//
// SYNOPSIS
//   make bench            (or: tests/bench/run)
//
// DESCRIPTION
//   Starts its own lab (deploy/lab/lab: backup Postfix + Dovecot + controller, a real Postfix
//   primary) plus a relay-mode Postfix, then measures (a) seconds from the primary accepting
//   connections to the first and the last message delivered, (b) Respaldo's hand-over rate
//   against 'postqueue -f' into the same real primary, (c) both into an smtp-sink primary and
//   smtp-source's push into that sink, (d) the controller's peak RSS handing over a large
//   message, (e) its CPU over idle seconds with many empty mailboxes. Prints a table and, as
//   its last line, the ratios. Targets are reported, never asserted: the exit status is
//   non-zero only when the run itself failed (a phase timed out, mail went missing).
//   Environment: BENCH_MESSAGES (5000), BENCH_MESSAGE_SIZE (10240), BENCH_MAILBOXES (1000),
//   BENCH_IDLE_SECONDS (60), BENCH_LARGE_MIB (50), BENCH_LAB_DIR (/var/tmp/respaldo-bench),
//   BENCH_PORT_BASE (first free from 13000), BENCH_KEEP=1 (leave the lab running).
//
// SECURITY
//   Runs as root (Postfix and Dovecot start as root and drop privileges; smtp-sink runs as the
//   postfix user). Everything listens on the loopback only; the lab is destroyed at the end.

using System.Globalization;
using System.Runtime.InteropServices;
using Respaldo.Bench;

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
