using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Respaldo.Tests.Lab;

namespace Respaldo.Bench;

/// <summary>
/// Postfix's smtp-source: real SMTP from outside, the way the Internet delivers to a backup MX,
/// and the reference for what this machine can push into smtp-sink.
/// </summary>
public static partial class SmtpSource
{
    public const string Sender = "remitente@bench.example";

    /// <summary>
    /// Sends <paramref name="messages"/> messages of <paramref name="size"/> bytes of payload,
    /// spread over <paramref name="recipients"/> (one smtp-source per recipient, in parallel).
    /// </summary>
    public static async Task SendAsync(IPEndPoint target, IReadOnlyList<string> recipients, int messages, int size, int sessionsEach)
    {
        var runs = new List<Task>();
        for (int i = 0; i < recipients.Count; i++)
        {
            int share = (messages / recipients.Count) + (i < messages % recipients.Count ? 1 : 0);
            if (share > 0)
            {
                runs.Add(RunAsync(target, "-s", Int(sessionsEach), "-m", Int(share), "-l", Int(size), "-S", "bench", "-f", Sender, "-t", recipients[i]));
            }
        }
        await Task.WhenAll(runs);
    }

    /// <summary>One message from a file (headers and body as they are; smtp-source adds CRLF and dot-stuffing).</summary>
    public static Task SendFileAsync(IPEndPoint target, string recipient, string file) =>
        RunAsync(target, "-m", "1", "-F", file, "-f", Sender, "-t", recipient);

    /// <summary>
    /// The reference: <paramref name="messages"/> over <paramref name="sessions"/> reused connections
    /// (-d). Returns the CPU time smtp-source used (user plus system). Note: read with bash's
    /// <c>times</c> after it exited (the children's times, from wait(2)): a process that has
    /// exited has no /proc entry left to read.
    /// </summary>
    public static async Task<TimeSpan> BlastAsync(IPEndPoint target, string recipient, int messages, int size, int sessions)
    {
        string[] all = ["-d", "-s", Int(sessions), "-m", Int(messages), "-l", Int(size), "-S", "bench", "-f", Sender, "-t", recipient,
            string.Create(CultureInfo.InvariantCulture, $"{target.Address}:{target.Port}")];
        ProcessRunner.Result r = await ProcessRunner.RunAsync("bash", ["-c", "smtp-source \"$@\" || exit $?; times", "bash", .. all], timeout: TimeSpan.FromMinutes(10));
        if (r.ExitCode != 0)
        {
            throw new InvalidOperationException($"smtp-source {string.Join(' ', all)} failed: {r}");
        }
        // times: the shell's own user and system time, then its children's: "0m1.234s 0m0.567s".
        Match children = TimesLine().Matches(r.Output) is { Count: 2 } lines ? lines[1] : throw new InvalidOperationException($"no times from bash: {r.Output}");
        return Minutes(children.Groups[1].Value, children.Groups[2].Value) + Minutes(children.Groups[3].Value, children.Groups[4].Value);
    }

    private static TimeSpan Minutes(string minutes, string seconds) =>
        TimeSpan.FromMinutes(int.Parse(minutes, CultureInfo.InvariantCulture)) + TimeSpan.FromSeconds(double.Parse(seconds, CultureInfo.InvariantCulture));

    [GeneratedRegex(@"^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$", RegexOptions.Multiline)]
    private static partial Regex TimesLine();

    private static async Task RunAsync(IPEndPoint target, params string[] args)
    {
        string[] all = [.. args, string.Create(CultureInfo.InvariantCulture, $"{target.Address}:{target.Port}")];
        ProcessRunner.Result r = await ProcessRunner.RunAsync("smtp-source", all, timeout: TimeSpan.FromMinutes(10));
        if (r.ExitCode != 0)
        {
            throw new InvalidOperationException($"smtp-source {string.Join(' ', all)} failed: {r}");
        }
    }

    private static string Int(int n) => n.ToString(CultureInfo.InvariantCulture);
}
