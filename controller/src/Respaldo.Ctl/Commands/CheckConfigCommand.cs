using System.CommandLine;
using Respaldo.Configuration;
using Respaldo.Mailboxes;

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
            // Note: a tenant or domain removed from the file strands what the backup still
            // stores for it (nothing hands it over, nothing deletes it): say so before a reload.
            foreach (OrphanedMail orphan in OrphanedMailFinder.Find(settings.MaildirRoot, settings.HoldRoot,
                new TenantDirectory(settings.Tenants), settings.Tenants.Select(t => t.Id)))
            {
                Console.Error.WriteLine($"warning: {orphan.Place}/{orphan.Name} still holds {orphan.Messages} message(s) ({orphan.Bytes} bytes) " +
                    "that no configured tenant owns: they stay where they are and are not handed over; add the domain back to a tenant to hand them over");
            }
            int mailboxes = settings.Tenants.Sum(t => t.Mailboxes.Count);
            Console.WriteLine($"{settings.SourcePath}: OK ({settings.Tenants.Count} tenant(s), " +
                $"{settings.Tenants.Sum(t => t.Domains.Count)} domain(s), {mailboxes} mailbox(es))");
            return ExitCodes.Success;
        });
        return command;
    }
}
