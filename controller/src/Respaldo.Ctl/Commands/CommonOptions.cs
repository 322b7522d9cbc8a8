using System.CommandLine;

namespace Respaldo.Ctl.Commands;

internal static class CommonOptions
{
    /// <summary>The bus to find respaldod on; given once on the root command, valid for every command.</summary>
    public static Option<string?> Bus { get; } = new("--bus")
    {
        Description = "D-Bus address of the bus respaldod is on (default: $RESPALDO_CONTROL_BUS, else the system bus, $DBUS_SYSTEM_BUS_ADDRESS)",
        Recursive = true,
    };

    public static Option<bool> Json() => new("--json")
    {
        Description = "print JSON for scripts instead of a table",
    };

    public static Option<string?> Config() => new("--config", "-c")
    {
        Description = "configuration file (default: $RESPALDO_CONFIG or /etc/respaldo/respaldo.json)",
    };
}
