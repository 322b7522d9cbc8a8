using System.Diagnostics;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Service;

/// <summary>
/// A private dbus-daemon configured like Debian's system bus (/usr/share/dbus-1/system.conf:
/// everything denied unless a policy allows it, EXTERNAL authentication by uid) with
/// Respaldo's own policy file included, listening on a socket in a directory of its own.
/// With <c>permissive</c>, every call is allowed by the bus, so that only the daemon's own
/// caller check stands between a user and a change.
/// </summary>
public sealed class PrivateBus : IAsyncDisposable
{
    private readonly Process _process;

    private PrivateBus(string directory, Process process, string address)
    {
        Directory = directory;
        _process = process;
        Address = address;
    }

    public string Directory { get; }

    public string Address { get; }

    public static string PolicyFile => Path.Combine(RepoPaths.Root, "deploy", "dbus", "es.respaldo.Control1.conf");

    public static async Task<PrivateBus> StartAsync(bool permissive = false)
    {
        string directory = System.IO.Directory.CreateTempSubdirectory("respaldo-bus-").FullName;
        // Note: other users (the 'nobody' test caller) must reach the socket.
        File.SetUnixFileMode(directory, (UnixFileMode)0b111_101_101);
        string socket = Path.Combine(directory, "socket");
        string policy = permissive
            ? """<policy context="default"><allow own="*"/><allow send_destination="*"/></policy>"""
            : $"<include>{PolicyFile}</include>";
        string config = Path.Combine(directory, "bus.conf");
        await File.WriteAllTextAsync(config, $"""
            <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
             "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
            <busconfig>
              <type>system</type>
              <auth>EXTERNAL</auth>
              <listen>unix:path={socket}</listen>
              <policy context="default">
                <allow user="*"/>
                <deny own="*"/>
                <deny send_type="method_call"/>
                <allow send_type="signal"/>
                <allow send_requested_reply="true" send_type="method_return"/>
                <allow send_requested_reply="true" send_type="error"/>
                <allow receive_type="method_call"/>
                <allow receive_type="method_return"/>
                <allow receive_type="error"/>
                <allow receive_type="signal"/>
                <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
                <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
              </policy>
              {policy}
            </busconfig>
            """);
        var info = new ProcessStartInfo("dbus-daemon")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { $"--config-file={config}", "--nofork", "--print-address" })
        {
            info.ArgumentList.Add(a);
        }
        Process process = Process.Start(info) ?? throw new InvalidOperationException("cannot start dbus-daemon");
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        string? address = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20));
        if (string.IsNullOrEmpty(address))
        {
            process.Kill();
            throw new InvalidOperationException("dbus-daemon did not print its address");
        }
        return new PrivateBus(directory, process, $"unix:path={socket}");
    }

    /// <summary>Makes the bus re-read its configuration (a group created after it started).</summary>
    public void ReloadConfiguration() => Signals.Send(_process.Id, Mono.Unix.Native.Signum.SIGHUP);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

public static class Signals
{
    public static void Send(int pid, Mono.Unix.Native.Signum signal)
    {
        if (Mono.Unix.Native.Syscall.kill(pid, signal) != 0)
        {
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: {Mono.Unix.Native.Stdlib.GetLastError()}");
        }
    }
}
