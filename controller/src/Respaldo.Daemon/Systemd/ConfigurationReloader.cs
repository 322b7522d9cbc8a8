using System.Globalization;
using Respaldo.Configuration;
using Respaldo.Supervision;

namespace Respaldo.Daemon.Systemd;

/// <summary>
/// One reload at a time, whoever asks (SIGHUP from <c>systemctl reload</c>, the control bus's
/// Reload): tells the service manager RELOADING=1, asks the runtime to re-read the file, then
/// READY=1. An invalid file keeps the running configuration; the status line says so until a
/// good one is loaded.
/// </summary>
internal sealed partial class ConfigurationReloader(RespaldoRuntime runtime, SystemdNotifier notifier, TimeProvider time, ILogger<ConfigurationReloader> logger) : IDisposable
{
    private readonly SemaphoreSlim _one = new(1, 1);

    /// <summary>Why the last reload was refused, for the status line; null after a good one.</summary>
    public string? Problem { get; private set; }

    public async Task<IReadOnlyList<ConfigurationError>> ReloadAsync(string requestedBy, CancellationToken cancellationToken)
    {
        await _one.WaitAsync(cancellationToken);
        try
        {
            LogReloading(logger, requestedBy, runtime.Settings.SourcePath);
            notifier.Reloading();
            IReadOnlyList<ConfigurationError> errors = await runtime.ReloadAsync(cancellationToken);
            Problem = errors.Count == 0
                ? null
                : string.Create(CultureInfo.InvariantCulture,
                    $"reload refused at {StatusLine.Clock(time.GetUtcNow(), TimeZoneInfo.Local, time.GetUtcNow())} ({errors.Count} error(s), see the log); running with the configuration loaded at {StatusLine.Clock(runtime.LoadedAt, TimeZoneInfo.Local, time.GetUtcNow())}");
            notifier.Notify("READY=1\nSTATUS=" + StatusLine.Compose(StatusLine.Glance(runtime.Supervisor), TimeZoneInfo.Local, time.GetUtcNow(), Problem));
            return errors;
        }
        finally
        {
            _one.Release();
        }
    }

    public void Dispose() => _one.Dispose();

    [LoggerMessage(EventId = 1902, Level = LogLevel.Information, Message = "reloading {Path} (asked by {Who})")]
    private static partial void LogReloading(ILogger logger, string who, string path);
}
