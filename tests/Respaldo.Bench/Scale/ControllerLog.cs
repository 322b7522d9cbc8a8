using System.Globalization;

namespace Respaldo.Bench.Scale;

/// <summary>One line of the controller's console log: its timestamp, event id and text.</summary>
public sealed record LogLine(DateTime At, int EventId, string Text);

/// <summary>
/// The controller's log as the lab keeps it (<c>LOGS/controller.log</c>, the daemon's one-line
/// console format: <c>yyyy-MM-ddTHH:mm:ss.fff level: Category[EventId] message</c>), read from a
/// mark onwards, so each phase sees only its own lines.
/// </summary>
public sealed class ControllerLog(string path)
{
    private long _mark;

    /// <summary>From now on, only lines written after this call are read.</summary>
    public void Mark() => _mark = File.Exists(path) ? new FileInfo(path).Length : 0;

    public IReadOnlyList<LogLine> Since()
    {
        if (!File.Exists(path))
        {
            return [];
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        stream.Position = Math.Min(_mark, stream.Length);
        using var reader = new StreamReader(stream);
        var lines = new List<LogLine>();
        while (reader.ReadLine() is { } line)
        {
            if (Parse(line) is { } parsed)
            {
                lines.Add(parsed);
            }
        }
        return lines;
    }

    public LogLine? First(int eventId, string? containing = null) =>
        Since().FirstOrDefault(l => l.EventId == eventId && (containing is null || l.Text.Contains(containing, StringComparison.Ordinal)));

    /// <summary>Polls every <paramref name="poll"/> until a line with the event id (and text) appears.</summary>
    public async Task<LogLine> WaitForAsync(int eventId, string? containing, TimeSpan timeout, TimeSpan poll, CancellationToken cancel)
    {
        DateTime until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            if (First(eventId, containing) is { } line)
            {
                return line;
            }
            await Task.Delay(poll, cancel);
        }
        throw new TimeoutException($"after {timeout.TotalSeconds:0} s the controller has not logged event {eventId}{(containing is null ? "" : $" '{containing}'")} ({path})");
    }

    private static LogLine? Parse(string line)
    {
        int space = line.IndexOf(' ', StringComparison.Ordinal);
        int open = line.IndexOf('[', StringComparison.Ordinal);
        int close = open < 0 ? -1 : line.IndexOf(']', open);
        if (space < 0 || close < 0 ||
            !DateTime.TryParseExact(line[..space], "yyyy-MM-ddTHH:mm:ss.fff", CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out DateTime at) ||
            !int.TryParse(line.AsSpan(open + 1, close - open - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int id))
        {
            return null;
        }
        return new LogLine(at.ToUniversalTime(), id, line[(close + 1)..].Trim());
    }
}
