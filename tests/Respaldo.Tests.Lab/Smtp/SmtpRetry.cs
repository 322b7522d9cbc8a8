using System.Diagnostics;

namespace Respaldo.Tests.Smtp;

/// <summary>
/// Sends again the way an MTA would: an answer the caller calls temporary (a 4xx, a broken
/// connection, "not ready yet") is tried again after <see cref="Delay"/>; any other answer is
/// the one under test. Gives up after <see cref="Attempts"/> (returning the last answer, for the
/// test to assert on) or after <see cref="GiveUpAfter"/> (a <see cref="TimeoutException"/> that
/// names the message and its last answer, so a test that would hang says which).
/// </summary>
public sealed class SmtpRetry
{
    public required TimeSpan Delay { get; init; }

    public int Attempts { get; init; } = int.MaxValue;

    public TimeSpan GiveUpAfter { get; init; } = TimeSpan.MaxValue;

    /// <summary>A 4xx reply: "try again later" (RFC 5321 section 4.2.1).</summary>
    public static bool IsTransient(int code) => code is >= 400 and < 500;

    /// <param name="attempt">One try; it may return a value that stands for a broken connection.</param>
    /// <param name="again">Whether an answer is temporary.</param>
    /// <param name="beforeRetry">Called with the attempt's number and its answer before each wait (log, count, drop the connection).</param>
    /// <param name="what">The message, for the timeout's text.</param>
    public async Task<T> SendAsync<T>(
        Func<CancellationToken, Task<T>> attempt,
        Func<T, bool> again,
        Func<int, T, Task>? beforeRetry = null,
        string what = "the message",
        CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        for (int n = 1; ; n++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            T answer = await attempt(cancellationToken);
            if (!again(answer) || n >= Attempts)
            {
                return answer;
            }
            if (clock.Elapsed > GiveUpAfter)
            {
                throw new TimeoutException($"{what}: not accepted within {GiveUpAfter.TotalMinutes:0.#} min ({n} attempts); last: {answer}");
            }
            if (beforeRetry is not null)
            {
                await beforeRetry(n, answer);
            }
            await Task.Delay(Delay, cancellationToken);
        }
    }
}
