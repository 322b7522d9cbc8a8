using System.Globalization;
using System.Net;
using Respaldo.Tests.Lab;

namespace Respaldo.Bench;

/// <summary>
/// Postfix's smtp-source: real SMTP from outside, the way the Internet delivers to a backup MX,
/// and the reference for what this machine can push into smtp-sink.
/// </summary>
public static class SmtpSource
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

    /// <summary>The reference: <paramref name="messages"/> over <paramref name="sessions"/> reused connections (-d).</summary>
    public static Task BlastAsync(IPEndPoint target, string recipient, int messages, int size, int sessions) =>
        RunAsync(target, "-d", "-s", Int(sessions), "-m", Int(messages), "-l", Int(size), "-S", "bench", "-f", Sender, "-t", recipient);

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
