using Respaldo.Journaling;
using Microsoft.Extensions.Logging;
using Respaldo.Configuration;
using Respaldo.Events;

namespace Respaldo.Supervision;

/// <summary>
/// The running controller and the settings it runs with. Everything that needs settings asks
/// here at the moment it needs them (never keeps its own copy), so that a reload changes them
/// for everyone at once. One <see cref="Supervisor"/> for the life of the process: a reload
/// applies the new settings to it (<see cref="Supervisor.Apply"/>), so the mailbox index, the
/// retry times and what each tenant knows of its primary survive, and nothing is cut.
/// </summary>
public sealed partial class RespaldoRuntime : IDisposable
{
    private readonly Journal _journal;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _reload = new(1, 1);
    private readonly Supervisor _supervisor;

    public RespaldoRuntime(RespaldoSettings settings, Journal journal, ILoggerFactory loggers, TimeProvider time)
    {
        _journal = journal;
        _logger = loggers.CreateLogger("Respaldo.Runtime");
        _time = time;
        Smtp.HostResolver.Use(settings);
        _supervisor = new Supervisor(settings, journal, Events, loggers, time);
        Retention = new JournalRetention(journal, () => Settings.Journal.Keep, time, loggers.CreateLogger("Respaldo.Journaling"));
    }

    /// <summary>The journal's pruning of old history (journal.keepDays), run beside the supervisor.</summary>
    public JournalRetention Retention { get; }

    /// <summary>Controller events; subscriptions survive reloads.</summary>
    public ControllerEvents Events { get; } = new();

    public RespaldoSettings Settings => _supervisor.Settings;

    public Supervisor Supervisor => _supervisor;

    public Journal Journal => _journal;

    /// <summary>When the configuration in use was loaded.</summary>
    public DateTimeOffset LoadedAt { get; private set; } = DateTimeOffset.UtcNow;

    /// <summary>
    /// How long a stop (or a tenant's removal by a reload) lets the messages in flight go on before it cuts them:
    /// dataTimeout, as the README promises ("finishes the message in flight").
    /// </summary>
    public TimeSpan StopGrace => Settings.Controller.DataTimeout;

    /// <summary>
    /// The longest a stop may take: the grace, then (for a message whose final dot went out just
    /// before it ran out) the wait for its reply, and a margin for QUIT and the journal.
    /// The daemon extends systemd's stop timeout by this (EXTEND_TIMEOUT_USEC).
    /// </summary>
    public TimeSpan DrainLimit => DrainLimitFor(Settings.Controller);

    public static TimeSpan DrainLimitFor(ControllerSettings pace) => (pace.DataTimeout * 2) + (pace.CommandTimeout * 2) + TimeSpan.FromSeconds(15);

    /// <summary>
    /// Runs the supervisor until cancelled. A stop starts no new message; the messages in
    /// flight get <see cref="StopGrace"/> more before they are cut (never after their final dot).
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var stopRetention = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task retention = Retention.RunAsync(stopRetention.Token);
        try
        {
            using var abort = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
            using (cancellationToken.Register(() => abort.CancelAfter(StopGrace)))
            {
                try
                {
                    await _supervisor.RunAsync(cancellationToken, abort.Token);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // Stopped.
                }
            }
        }
        finally
        {
            await stopRetention.CancelAsync();
            try
            {
                await retention;
            }
            catch (OperationCanceledException)
            {
                // Stopped with the controller.
            }
        }
    }

    /// <summary>
    /// Re-reads the configuration file. An invalid file changes nothing: the errors are logged
    /// and returned, the running configuration stays. A valid one is applied to the running
    /// supervisor: nothing in flight is cut, nothing is rescanned unless the tenant map changed.
    /// </summary>
    public async Task<IReadOnlyList<ConfigurationError>> ReloadAsync(CancellationToken cancellationToken)
    {
        await _reload.WaitAsync(cancellationToken);
        try
        {
            string path = Settings.SourcePath;
            (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) = ConfigurationLoader.TryLoad(path);
            if (settings is null)
            {
                LogReloadRefused(_logger, path, errors.Count, string.Join("; ", errors));
                return errors;
            }
            if (settings.StateDirectory != Settings.StateDirectory)
            {
                var error = new ConfigurationError("stateDirectory", "cannot change while running; restart the service to move the state directory");
                LogReloadRefused(_logger, path, 1, error.ToString());
                return [error];
            }
            Smtp.HostResolver.Use(settings);
            _supervisor.Apply(settings);
            LoadedAt = _time.GetUtcNow();
            LogReloaded(_logger, path, settings.Tenants.Count);
            return [];
        }
        finally
        {
            _reload.Release();
        }
    }

    public void Dispose()
    {
        _supervisor.Dispose();
        _reload.Dispose();
    }

    [LoggerMessage(EventId = 1002, Level = LogLevel.Error, Message = "reload of {Path} refused, keeping the running configuration: {Count} error(s): {Errors}")]
    private static partial void LogReloadRefused(ILogger logger, string path, int count, string errors);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "configuration {Path} reloaded: {Tenants} tenant(s)")]
    private static partial void LogReloaded(ILogger logger, string path, int tenants);
}
