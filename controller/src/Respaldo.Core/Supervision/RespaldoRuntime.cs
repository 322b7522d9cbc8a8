using Respaldo.Journaling;
using Microsoft.Extensions.Logging;
using Respaldo.Configuration;

namespace Respaldo.Supervision;

/// <summary>
/// The running controller and the settings it runs with. Everything that needs settings or
/// the supervisor asks here at the moment it needs them (never keeps its own copy), so that
/// a reload swaps both at once. The journal and the event fan-out outlive reloads.
/// </summary>
public sealed partial class RespaldoRuntime : IDisposable
{
    private readonly Journal _journal;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _swap = new(1, 1);
    private volatile Supervisor _supervisor;
    private CancellationTokenSource? _running;
    private TaskCompletionSource _swapped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public RespaldoRuntime(RespaldoSettings settings, Journal journal, ILoggerFactory loggers, TimeProvider time)
    {
        _journal = journal;
        _loggers = loggers;
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
    /// How long a stop or a reload lets the messages in flight go on before it cuts them:
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
    /// Runs the current supervisor; after a reload, the new one, once the old one's messages in
    /// flight have ended (both never hand over at once). Returns when cancelled, after the same drain.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var stopRetention = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task retention = Retention.RunAsync(stopRetention.Token);
        try
        {
            await RunSupervisorsAsync(cancellationToken);
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

    private async Task RunSupervisorsAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Supervisor current;
            Task swapped;
            using (var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            using (var abort = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time))
            // Note: a stop or a reload (cts) stops starting messages at once; the messages in flight
            // get dataTimeout more before abort cuts them (and never after their final dot).
            using (cts.Token.Register(() => abort.CancelAfter(StopGrace)))
            {
                await _swap.WaitAsync(cancellationToken);
                try
                {
                    current = _supervisor;
                    _running = cts;
                    swapped = _swapped.Task;
                }
                finally
                {
                    _swap.Release();
                }
                try
                {
                    await current.RunAsync(cts.Token, abort.Token);
                }
                catch (OperationCanceledException) when (cts.IsCancellationRequested)
                {
                    // Stopped for a reload or for shutdown.
                }
                // Note: no reload may cancel this iteration's token once it is disposed.
                await _swap.WaitAsync(CancellationToken.None);
                _running = null;
                _swap.Release();
                if (!ReferenceEquals(current, _supervisor))
                {
                    // Note: replaced by a reload, and only now are its loops over: disposing it
                    // earlier pulled semaphores from under loops still unwinding.
                    current.Dispose();
                }
            }
            if (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            await swapped.WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Re-reads the configuration file. An invalid file changes nothing: the errors are logged
    /// and returned, the running configuration stays. A valid one replaces the supervisor:
    /// the old one starts no new message, finishes those in flight (within its
    /// <see cref="StopGrace"/>) and journals them, and only then does the new one start.
    /// </summary>
    public async Task<IReadOnlyList<ConfigurationError>> ReloadAsync(CancellationToken cancellationToken)
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
        await _swap.WaitAsync(cancellationToken);
        try
        {
            Supervisor old = _supervisor;
            Smtp.HostResolver.Use(settings);
            _supervisor = new Supervisor(settings, _journal, Events, _loggers, _time);
            LoadedAt = _time.GetUtcNow();
            TaskCompletionSource signal = _swapped;
            _swapped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_running is { } running)
            {
                await running.CancelAsync();
            }
            else
            {
                old.Dispose();
            }
            signal.TrySetResult();
        }
        finally
        {
            _swap.Release();
        }
        LogReloaded(_logger, path, settings.Tenants.Count);
        return [];
    }

    public void Dispose()
    {
        _supervisor.Dispose();
        _swap.Dispose();
    }

    [LoggerMessage(EventId = 1002, Level = LogLevel.Error, Message = "reload of {Path} refused, keeping the running configuration: {Count} error(s): {Errors}")]
    private static partial void LogReloadRefused(ILogger logger, string path, int count, string errors);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "configuration {Path} reloaded: {Tenants} tenant(s)")]
    private static partial void LogReloaded(ILogger logger, string path, int tenants);
}
