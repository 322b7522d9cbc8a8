using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Respaldo.Bench;

/// <summary>
/// Postfix's smtp-sink as the primary: it accepts every message and throws it away, so what is
/// measured is the sender, not the primary's disk. Its running counters (<c>-c</c>: a line
/// "sess=N quit=N mesg=N" ended by CR, written when a message's final dot arrives) are read
/// as they come and time-stamped: that gives the first and the last message of a hand-over.
/// </summary>
public sealed partial class SmtpSink : IAsyncDisposable
{
    private readonly Process _process;
    private readonly int _expected;
    private readonly Task _reader;
    private readonly object _lock = new();
    private int _messages;
    private long? _first;
    private long? _last;

    private SmtpSink(Process process, int expected)
    {
        _process = process;
        _expected = expected;
        _reader = Task.Run(ReadCountersAsync);
    }

    public int Messages => Volatile.Read(ref _messages);

    /// <summary>The sink's process (one process, single-threaded): its CPU is read from /proc.</summary>
    public int Pid => _process.Id;

    /// <summary>
    /// Starts smtp-sink on <paramref name="endpoint"/> (it drops root for the postfix user, as it
    /// must), to receive <paramref name="expected"/> messages.
    /// </summary>
    public static SmtpSink Start(IPEndPoint endpoint, int expected)
    {
        var info = new ProcessStartInfo("smtp-sink")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { "-c", "-u", "postfix", "-h", "sink.bench.test", string.Create(CultureInfo.InvariantCulture, $"{endpoint.Address}:{endpoint.Port}"), "256" })
        {
            info.ArgumentList.Add(a);
        }
        Process process = Process.Start(info) ?? throw new InvalidOperationException("cannot start smtp-sink");
        return new SmtpSink(process, expected);
    }

    private async Task ReadCountersAsync()
    {
        var line = new StringBuilder();
        var buffer = new char[4096];
        int n;
        while ((n = await _process.StandardOutput.ReadAsync(buffer)) > 0)
        {
            long now = Stopwatch.GetTimestamp();
            for (int i = 0; i < n; i++)
            {
                if (buffer[i] is '\r' or '\n')
                {
                    Update(line.ToString(), now);
                    line.Clear();
                }
                else
                {
                    line.Append(buffer[i]);
                }
            }
        }
    }

    private void Update(string counters, long now)
    {
        Match m = MessageCounter().Match(counters);
        if (!m.Success)
        {
            return;
        }
        int count = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        lock (_lock)
        {
            Volatile.Write(ref _messages, count);
            if (count > 0)
            {
                _first ??= now;
            }
            if (count >= _expected)
            {
                _last ??= now;
            }
        }
    }

    /// <summary>Waits for the expected messages; returns when the first and the last arrived (Stopwatch ticks).</summary>
    public async Task<(long First, long Last)> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            lock (_lock)
            {
                if (_first is { } first && _last is { } last)
                {
                    return (first, last);
                }
            }
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"smtp-sink exited: {await _process.StandardError.ReadToEndAsync(cancellationToken)}");
            }
            await Task.Delay(10, cancellationToken);
        }
        throw new TimeoutException($"smtp-sink received {Messages} of {_expected} messages in {timeout.TotalSeconds:0} s");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        try
        {
            await _reader;
        }
        catch (IOException)
        {
            // Note: the pipe closes when the sink dies; its counters are final by then.
        }
        _process.Dispose();
    }

    [GeneratedRegex(@"mesg=(\d+)")]
    private static partial Regex MessageCounter();
}
