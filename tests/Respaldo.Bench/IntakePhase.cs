using System.Diagnostics;
using System.Globalization;
using Respaldo.Tests.Lab;

namespace Respaldo.Bench;

/// <summary>
/// (f) the border's cost at intake: the same messages sent by smtp-source into the backup
/// with rspamd as its milter, then with the milter switched off in the same Postfix
/// (<c>smtpd_milters =</c>, reload), in one run on one machine; and rspamd's memory (PSS
/// of its processes, /proc/PID/smaps_rollup, so shared pages are not counted twice).
/// </summary>
public sealed class IntakePhase(BenchOptions options, Action<string> say)
{
    public double Filtered { get; private set; }

    public double Unfiltered { get; private set; }

    public double Ratio => Unfiltered <= 0 ? 0 : Filtered / Unfiltered;

    public long RspamdPss { get; private set; }

    public int RspamdProcesses { get; private set; }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        BenchLab lab = BenchLab.CreateWithBorder(options);
        if (Directory.Exists(lab.Directory))
        {
            await lab.RunAsync("destroy", check: false);
        }
        try
        {
            await lab.RunAsync("config");
            await lab.RunAsync("up");
            await lab.RunAsync("primary-down");
            // Note: the sender's domain must be one the lab's DNS answers for, or every message
            // would be deferred as a temporary DNS failure.
            string domain = SmtpSource.Sender.Split('@')[1];
            await File.WriteAllTextAsync(Path.Combine(lab["DNS_ZONES"], domain + ".zone"),
                $"$ORIGIN {domain}.\n$TTL 60\n@ IN SOA ns.lab.test. hostmaster.lab.test. 1 60 60 600 60\n@ IN NS ns.lab.test.\n" +
                "@ IN TXT \"v=spf1 ip4:127.0.0.1 -all\"\n_dmarc IN TXT \"v=DMARC1; p=none\"\n", cancellationToken);
            await lab.RunAsync("dns-reload");
            (IReadOnlyList<string> recipients, _) = await lab.SampleMailboxesAsync();
            int messages = Math.Max(50, options.Messages / 2);
            say($"(f) intake with the border: {messages} messages of {options.MessageSize} bytes, rspamd as the milter, then without it ...");
            // A warm-up: postscreen's first look at the client (its greeting wait) and rspamd's first scans.
            await SmtpSource.SendAsync(lab.BackupSmtp, recipients, 10, options.MessageSize, sessionsEach: 1);
            int stored = 10;
            Filtered = await TimedAsync(lab, recipients, messages, stored += messages, cancellationToken);
            (RspamdPss, RspamdProcesses) = Pss(int.Parse(File.ReadAllText(Path.Combine(lab.Directory, "rspamd.pid")).Trim(), CultureInfo.InvariantCulture));
            string postfix = lab["BACKUP_POSTFIX"];
            await Check(ProcessRunner.RunAsync("postconf", ["-c", postfix, "-e", "smtpd_milters ="]));
            await Check(ProcessRunner.RunAsync("postfix", ["-c", postfix, "reload"]));
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            Unfiltered = await TimedAsync(lab, recipients, messages, stored += messages, cancellationToken);
        }
        finally
        {
            if (!options.Keep)
            {
                await lab.RunAsync("destroy", check: false);
            }
        }
    }

    /// <summary>Messages per second from smtp-source's start until the last one is stored.</summary>
    private async Task<double> TimedAsync(BenchLab lab, IReadOnlyList<string> recipients, int messages, int expected, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        await SmtpSource.SendAsync(lab.BackupSmtp, recipients, messages, options.MessageSize, sessionsEach: 2);
        var limit = Stopwatch.StartNew();
        while (MaildirWatch.Count(lab["BACKUP_MAILDIRS"]) < expected)
        {
            if (limit.Elapsed > options.PhaseTimeout)
            {
                throw new TimeoutException($"(f) {MaildirWatch.Count(lab["BACKUP_MAILDIRS"])} of {expected} messages stored after {options.PhaseTimeout.TotalSeconds:0} s");
            }
            await Task.Delay(20, cancellationToken);
        }
        return messages / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static async Task Check(Task<ProcessRunner.Result> run)
    {
        ProcessRunner.Result r = await run;
        if (r.ExitCode != 0)
        {
            throw new InvalidOperationException($"(f) {r}");
        }
    }

    /// <summary>The PSS of a process and all its descendants (rspamd's main process and its workers).</summary>
    private static (long Bytes, int Processes) Pss(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid))
            {
                continue;
            }
            try
            {
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                // Note: the command name may hold blanks and parentheses; fields follow the last ')'.
                string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                int parent = int.Parse(fields[1], CultureInfo.InvariantCulture);
                (children.TryGetValue(parent, out List<int>? list) ? list : children[parent] = []).Add(pid);
            }
            catch (IOException)
            {
            }
        }
        long total = 0;
        int count = 0;
        var stack = new Stack<int>([root]);
        while (stack.TryPop(out int pid))
        {
            count++;
            try
            {
                string? line = File.ReadLines($"/proc/{pid}/smaps_rollup").FirstOrDefault(l => l.StartsWith("Pss:", StringComparison.Ordinal));
                total += line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
            catch (IOException)
            {
            }
            foreach (int child in children.GetValueOrDefault(pid) ?? [])
            {
                stack.Push(child);
            }
        }
        return (total, count);
    }
}
