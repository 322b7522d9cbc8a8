using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Respaldo.Daemon.Systemd;

/// <summary>
/// sd_notify(3) written out: datagrams to the unix socket named by <c>$NOTIFY_SOCKET</c>
/// (a leading '@' is the abstract namespace). Outside systemd the variable is unset and
/// every call does nothing. The hosting package's own notifier (UseSystemd()) sends READY=1 and
/// STOPPING=1 only; STATUS=, WATCHDOG=1, RELOADING=1 and EXTEND_TIMEOUT_USEC= come from here.
/// </summary>
// Note: Microsoft.Extensions.Hosting.Systemd's ISystemdNotifier could carry these datagrams
// (new ServiceState("WATCHDOG=1")), but it lacks what this class is for: it does not read
// WATCHDOG_USEC/WATCHDOG_PID (whether and how often to ping), it throws when a send fails (here a
// lost notification is logged and the reload or watchdog goes on), it opens a socket per call,
// and it has no MONOTONIC_USEC for RELOADING=1 (docs/ARCHITECTURE.md, "Why our own sd_notify").
internal sealed partial class SystemdNotifier : IDisposable
{
    private readonly UnixDomainSocketEndPoint? _endpoint;
    private readonly Socket? _socket;
    private readonly ILogger<SystemdNotifier> _logger;
    private readonly object _sendLock = new();

    public SystemdNotifier(ILogger<SystemdNotifier> logger)
    {
        _logger = logger;
        string? path = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(path))
        {
            return;
        }
        _endpoint = new UnixDomainSocketEndPoint(path[0] == '@' ? "\0" + path[1..] : path);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        WatchdogInterval = ReadWatchdogInterval();
    }

    /// <summary>True when a service manager listens (NOTIFY_SOCKET is set).</summary>
    public bool IsEnabled => _socket is not null;

    /// <summary>
    /// How often to send WATCHDOG=1: half of WatchdogSec= (systemd passes it as WATCHDOG_USEC,
    /// sd_watchdog_enabled(3) recommends half), or null when the unit has no watchdog.
    /// </summary>
    public TimeSpan? WatchdogInterval { get; }

    private static TimeSpan? ReadWatchdogInterval()
    {
        string? usec = Environment.GetEnvironmentVariable("WATCHDOG_USEC");
        string? pid = Environment.GetEnvironmentVariable("WATCHDOG_PID");
        // Note: WATCHDOG_PID names the process the watchdog is for; a child that inherited the
        // variables must not ping on its parent's behalf (sd_watchdog_enabled(3)).
        if (!string.IsNullOrEmpty(pid) && pid != Environment.ProcessId.ToString(CultureInfo.InvariantCulture))
        {
            return null;
        }
        return long.TryParse(usec, NumberStyles.None, CultureInfo.InvariantCulture, out long value) && value > 0
            ? TimeSpan.FromMicroseconds(value / 2.0)
            : null;
    }

    /// <summary>Sends one notification (newline-separated KEY=VALUE assignments). Never throws: a lost notification is logged.</summary>
    public void Notify(string state)
    {
        if (_socket is null)
        {
            return;
        }
        byte[] bytes = Encoding.UTF8.GetBytes(state);
        lock (_sendLock)
        {
            try
            {
                _socket.SendTo(bytes, SocketFlags.None, _endpoint!);
            }
            catch (SocketException e)
            {
                LogNotifyFailed(_logger, state.Split('\n')[0], e.Message);
            }
        }
    }

    /// <summary>STATUS= is one line of free text (systemctl status shows it).</summary>
    public void Status(string line) => Notify("STATUS=" + line.Replace('\n', ' '));

    /// <summary>
    /// RELOADING=1 with the monotonic clock in microseconds, as systemd 253's Type=notify-reload
    /// expects; older managers ignore MONOTONIC_USEC. READY=1 must follow when done.
    /// </summary>
    public void Reloading() => Notify(string.Create(CultureInfo.InvariantCulture,
        $"RELOADING=1\nMONOTONIC_USEC={MonotonicMicroseconds()}"));

    /// <summary>
    /// CLOCK_MONOTONIC in microseconds (Stopwatch's timestamp on Linux). Note: multiplying the
    /// nanosecond timestamp by 10^6 first overflows a long after 2.5 hours of uptime.
    /// </summary>
    internal static long MonotonicMicroseconds() => (long)Stopwatch.GetElapsedTime(0).TotalMicroseconds;

    public void Dispose() => _socket?.Dispose();

    [LoggerMessage(EventId = 1901, Level = LogLevel.Warning, Message = "notification {State} to the service manager failed: {Reason}")]
    private static partial void LogNotifyFailed(ILogger logger, string state, string reason);
}
