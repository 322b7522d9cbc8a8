using Respaldo.ControlBus;
using Respaldo.Supervision;
using Tmds.DBus.Protocol;
using Respaldo.Events;
using Respaldo.Holds;

namespace Respaldo.Daemon.ControlBus;

/// <summary>
/// Offers es.respaldo.Control1 on the bus: connects and owns the name during start-up (so
/// READY=1, sent after every hosted service started, means respaldoctl can talk to us), turns
/// controller events into signals, and reconnects if the bus daemon restarts.
/// </summary>
internal sealed partial class ControlBusService(
    ControlBusOptions options,
    ControlObject control,
    RespaldoRuntime runtime,
    ILogger<ControlBusService> logger) : IHostedService, IAsyncDisposable
{
    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(5);
    private readonly CancellationTokenSource _stopping = new();
    private volatile DBusConnection? _connection;
    private Task? _watch;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Address is null)
        {
            LogDisabled(logger);
            return;
        }
        try
        {
            await ConnectAsync(options.Address);
        }
        catch (Exception e) when (e is DBusExceptionBase or InvalidOperationException or IOException or System.Net.Sockets.SocketException)
        {
            if (options.Required)
            {
                // Note: a broken environment: systemd restarts us, and the admin reads why.
                throw new InvalidOperationException($"control bus {options.Address}: {e.Message}", e);
            }
            LogUnavailable(logger, options.Address, e.Message);
            return;
        }
        runtime.Events.Raised += OnEvent;
        _watch = Task.Run(() => KeepConnectedAsync(options.Address, _stopping.Token), CancellationToken.None);
    }

    private async Task ConnectAsync(string address)
    {
        var connection = new DBusConnection(address);
        try
        {
            await connection.ConnectAsync();
            connection.AddMethodHandler(control);
            if (!await connection.TryRequestNameAsync(ControlContract.BusName, RequestNameOptions.None))
            {
                throw new InvalidOperationException($"{ControlContract.BusName} is already owned on the bus: is another respaldod running?");
            }
        }
        catch
        {
            connection.Dispose();
            throw;
        }
        _connection = connection;
        LogListening(logger, ControlContract.BusName, address);
    }

    /// <summary>The bus daemon may restart (an upgrade of dbus): the controller goes on, and the name is taken again.</summary>
    private async Task KeepConnectedAsync(string address, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            DBusConnection? connection = _connection;
            if (connection is not null)
            {
                Exception? reason = await connection.DisconnectedAsync().WaitAsync(stopping).ConfigureAwait(false);
                if (stopping.IsCancellationRequested)
                {
                    return;
                }
                LogLost(logger, reason?.Message ?? "closed");
                _connection = null;
                connection.Dispose();
            }
            try
            {
                await Task.Delay(ReconnectDelay, stopping);
                await ConnectAsync(address);
            }
            catch (Exception e) when (e is DBusExceptionBase or InvalidOperationException or IOException or System.Net.Sockets.SocketException)
            {
                LogUnavailable(logger, address, e.Message);
            }
        }
    }

    private void OnEvent(ControllerEvent e)
    {
        if (_connection is not { } connection)
        {
            return;
        }
        (string member, string signature) = e switch
        {
            PrimaryWentDown => ("PrimaryWentDown", "sss"),
            PrimaryCameUp => ("PrimaryCameUp", "ssx"),
            HandOverFinished => ("HandOverFinished", "sa{sv}"),
            MessageHeld => ("MessageHeld", "ssss"),
            _ => ("", ""),
        };
        if (member.Length == 0)
        {
            return;
        }
        MessageWriter writer = connection.GetMessageWriter();
        try
        {
            writer.WriteSignalHeader(null, ControlContract.ObjectPath, ControlContract.Interface, member, signature);
            writer.WriteString(e.TenantId);
            switch (e)
            {
                case PrimaryWentDown down:
                    writer.WriteString(down.Host);
                    writer.WriteString(down.Reason);
                    break;
                case PrimaryCameUp up:
                    writer.WriteString(up.Host);
                    writer.WriteInt64(Record.Millis(up.DownSince));
                    break;
                case HandOverFinished finished:
                    writer.WriteDictionary(Records.Progress(finished.Progress));
                    break;
                case MessageHeld h:
                    writer.WriteString(h.Message.Mailbox);
                    writer.WriteString(h.Message.BaseName);
                    writer.WriteString(h.Reason);
                    break;
            }
            // Note: a signal that cannot be sent (the bus went away) is dropped; the journal
            // has the facts, signals are only news.
            connection.TrySendMessage(writer.CreateMessage());
        }
        finally
        {
            writer.Dispose();
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        runtime.Events.Raised -= OnEvent;
        await _stopping.CancelAsync();
        if (_watch is not null)
        {
            try
            {
                await _watch.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // Stopping.
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _connection?.Dispose();
        _stopping.Dispose();
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(EventId = 1804, Level = LogLevel.Information, Message = "control bus: {Name} on {Address}")]
    private static partial void LogListening(ILogger logger, string name, string address);

    [LoggerMessage(EventId = 1805, Level = LogLevel.Warning, Message = "control bus: not offered (--control-bus none); respaldoctl's live commands will not reach this daemon")]
    private static partial void LogDisabled(ILogger logger);

    [LoggerMessage(EventId = 1806, Level = LogLevel.Warning, Message = "control bus {Address} unavailable: {Reason}; running without it, respaldoctl's live commands will not reach this daemon")]
    private static partial void LogUnavailable(ILogger logger, string address, string reason);

    [LoggerMessage(EventId = 1807, Level = LogLevel.Error, Message = "control bus connection lost ({Reason}); reconnecting")]
    private static partial void LogLost(ILogger logger, string reason);
}

internal static class ControlBusRegistration
{
    /// <summary>es.respaldo.Control1 on the system bus (or the bus <c>--control-bus</c> names), for respaldoctl.</summary>
    public static WebApplicationBuilder AddControlBus(this WebApplicationBuilder builder)
    {
        string? setting = builder.Configuration["control-bus"] ?? Environment.GetEnvironmentVariable("RESPALDO_CONTROL_BUS");
        bool underServiceManager = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NOTIFY_SOCKET"));
        builder.Services.AddSingleton(ControlBusOptions.From(setting, underServiceManager));
        builder.Services.AddSingleton<ControlObject>();
        builder.Services.AddHostedService<ControlBusService>();
        return builder;
    }
}
