using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Respaldo.Tests.Lab;

/// <summary>Keeps every log line (level, event id, text) for a test to look at.</summary>
public sealed class ListLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, int EventId, string Text)> Lines { get; } = new();

    /// <summary>How many lines carry <paramref name="eventId"/>.</summary>
    public int Count(int eventId) => Lines.Count(l => l.EventId == eventId);

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Lines.Enqueue((logLevel, eventId.Id, formatter(state, exception)));
}

/// <summary>A logger factory whose every category writes to one <see cref="ListLogger"/>, for a runtime run in a test.</summary>
public sealed class ListLoggerFactory : ILoggerFactory
{
    public ListLogger Logger { get; } = new();

    public ILogger CreateLogger(string categoryName) => Logger;

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("every line goes to the list");

    public void Dispose()
    {
    }
}
