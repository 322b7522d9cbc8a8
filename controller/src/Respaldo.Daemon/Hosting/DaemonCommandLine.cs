using System.Reflection;

namespace Respaldo.Daemon.Hosting;

/// <summary>
/// What respaldod answers before it starts anything: --help and --version (the man page,
/// respaldod(8), is made from these by help2man when the package is built), and the exit
/// status of a configuration it cannot start with.
/// </summary>
internal static class DaemonCommandLine
{
    /// <summary>EX_CONFIG (sysexits.h): the unit's RestartPreventExitStatus= keeps systemd from restarting into the same error.</summary>
    public const int ConfigurationError = 78;

    public const string Help = """
        Usage: respaldod [--config FILE] [--control-bus system|none|ADDRESS]
        The Respaldo controller: watches the backup mailboxes, probes each tenant's primary
        mail server, and hands every stored message over to it, unaltered, once it accepts mail.
        It also serves the policy service, the dashboard, the webmail and /metrics.

        Options:
          --config FILE       the configuration (default: $RESPALDO_CONFIG, else /etc/respaldo/respaldo.json)
          --control-bus BUS   where es.respaldo.Control1 is offered: system (default), none, or a
                              D-Bus address (default: $RESPALDO_CONTROL_BUS)
          -h, --help          show this help and exit
          --version           show the version and exit

        It runs as the systemd service respaldo.service (Type=notify: READY, STATUS, WATCHDOG;
        SIGHUP re-reads the configuration, SIGTERM finishes the message in flight). A configuration
        with errors is refused at start: each error is printed and the exit status is 78.
        respaldoctl(8) talks to it over D-Bus.
        """;

    /// <summary>The exit status when the arguments ask for help or the version (printed here), otherwise null: start.</summary>
    public static int? Answer(IReadOnlyList<string> args, TextWriter output)
    {
        if (args.Any(a => a is "-h" or "--help" or "-?"))
        {
            output.WriteLine(Help);
            return 0;
        }
        if (args.Contains("--version"))
        {
            output.WriteLine($"respaldod {Version}");
            return 0;
        }
        return null;
    }

    /// <summary>The version the build stamped (the package's, when deploy/package/build-deb built it), without the commit.</summary>
    public static string Version => Stamp.Version;

    /// <summary>The build's version and the commit the SDK appends after a '+' (empty when it was built outside git).</summary>
    public static (string Version, string Revision) Stamp
    {
        get
        {
            string v = typeof(DaemonCommandLine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";
            int plus = v.IndexOf('+', StringComparison.Ordinal);
            return plus < 0 ? (v, "") : (v[..plus], v[(plus + 1)..]);
        }
    }
}
