using System.CommandLine;

namespace Respaldo.Ctl.Commands;

internal static class CommonOptions
{
    public static Option<string?> Config() => new("--config", "-c")
    {
        Description = "configuration file (default: $RESPALDO_CONFIG or /etc/respaldo/respaldo.json)",
    };
}
