using System.CommandLine;
using Respaldo.Configuration;

namespace Respaldo.Ctl.Commands;

/// <summary><c>respaldoctl check-config [FILE]</c>: validates, prints every error by field, changes nothing.</summary>
internal static class CheckConfigCommand
{
    public static Command Create()
    {
        var file = new Argument<string?>("file")
        {
            Arity = ArgumentArity.ZeroOrOne,
            Description = "configuration file (default: --config, $RESPALDO_CONFIG or /etc/respaldo/respaldo.json)",
        };
        Option<string?> config = CommonOptions.Config();
        var command = new Command("check-config", "validate the configuration file without changing anything") { file, config };
        command.SetAction(result =>
        {
            string path = ConfigurationLoader.ResolvePath(result.GetValue(file) ?? result.GetValue(config));
            (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) = ConfigurationLoader.TryLoad(path);
            if (settings is null)
            {
                Console.Error.WriteLine($"{Path.GetFullPath(path)}: {errors.Count} error(s)");
                foreach (ConfigurationError error in errors)
                {
                    Console.Error.WriteLine($"  {error}");
                }
                return ExitCodes.Failure;
            }
            int mailboxes = settings.Tenants.Sum(t => t.Mailboxes.Count);
            Console.WriteLine($"{settings.SourcePath}: OK ({settings.Tenants.Count} tenant(s), " +
                $"{settings.Tenants.Sum(t => t.Domains.Count)} domain(s), {mailboxes} mailbox(es))");
            return ExitCodes.Success;
        });
        return command;
    }
}
