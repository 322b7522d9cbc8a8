using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Respaldo.Bench.Scale;

/// <summary>The latency of the policy service's RCPT answers, as Postfix's smtpd would see it (milliseconds).</summary>
public sealed record PolicyLatency(int Requests, double P50, double P99, double Max, IReadOnlyDictionary<string, int> Actions)
{
    public string Summary => string.Create(CultureInfo.InvariantCulture, $"p50 {P50:0.000} ms, p99 {P99:0.000} ms (max {Max:0.0}, n={Requests}, median of 3)");

    public string ActionSummary => string.Join(", ", Actions.OrderByDescending(a => a.Value).Select(a => $"{a.Key} x{a.Value}"));
}

/// <summary>
/// Talks to the policy socket directly with Postfix's policy delegation protocol (attribute
/// lines, an empty line; the answer is <c>action=...</c> and an empty line), one connection
/// reused for every request as smtpd does, each RCPT a new transaction (its own
/// <c>instance</c>), recipients drawn at random from the scale mailboxes. Note: this times the
/// controller's decision plus a unix-socket round trip, not smtpd or postscreen.
/// </summary>
public static class PolicyTiming
{
    /// <summary>
    /// Three rounds of <paramref name="requests"/> after 500 unmeasured ones (the JIT's tiers, the
    /// connection's set-up); the round with the median p99 is reported. Note: on a shared 2-core
    /// machine one round can catch another process's burst; the median of three is steadier.
    /// </summary>
    public static async Task<PolicyLatency> MeasureAsync(string socketPath, IReadOnlyList<string> recipients, int requests, CancellationToken cancel)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancel);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var random = new Random(14);
        int instance = 0;
        await RoundAsync(500);
        var rounds = new List<PolicyLatency>();
        for (int r = 0; r < 3; r++)
        {
            rounds.Add(await RoundAsync(requests));
        }
        return rounds.OrderBy(r => r.P99).ElementAt(1);

        async Task<PolicyLatency> RoundAsync(int count)
        {
            var times = new double[count];
            var actions = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < count; i++)
            {
                string recipient = recipients[random.Next(recipients.Count)];
                string request = string.Create(CultureInfo.InvariantCulture,
                    $"request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nclient_address=127.0.0.1\nclient_name=localhost\n" +
                    $"reverse_client_name=localhost\nhelo_name=bench.example\nsender=remitente@bench.example\nrecipient={recipient}\n" +
                    $"recipient_count=0\nqueue_id=\ninstance=scale.{++instance}\nsize=2048\n\n");
                long start = Stopwatch.GetTimestamp();
                await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancel);
                string action = "";
                while (await reader.ReadLineAsync(cancel) is { } line)
                {
                    if (line.Length == 0)
                    {
                        break;
                    }
                    if (line.StartsWith("action=", StringComparison.Ordinal))
                    {
                        action = line[7..];
                    }
                }
                times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                if (action.Length == 0)
                {
                    throw new InvalidOperationException($"the policy service at {socketPath} closed or answered without an action");
                }
                string kind = action.Split(' ')[0];
                actions[kind] = actions.GetValueOrDefault(kind) + 1;
            }
            Array.Sort(times);
            return new PolicyLatency(count, Percentile(times, 0.50), Percentile(times, 0.99), times[^1], actions);
        }
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
