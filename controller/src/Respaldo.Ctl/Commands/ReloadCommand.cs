using System.CommandLine;

namespace Respaldo.Ctl.Commands;

/// <summary><c>respaldoctl reload</c>: the daemon re-reads its configuration; an invalid file changes nothing.</summary>
internal static class ReloadCommand
{
    public static Command Create()
    {
        var command = new Command("reload", "make the daemon re-read its configuration (an invalid file is refused, the old one stays)");
        command.SetLiveAction(async (_, client, _) =>
        {
            string[] errors = await client.ReloadAsync();
            if (errors.Length == 0)
            {
                Console.WriteLine("reloaded");
                return ExitCodes.Success;
            }
            Console.Error.WriteLine($"reload refused, the daemon keeps its running configuration: {errors.Length} error(s)");
            foreach (string e in errors)
            {
                Console.Error.WriteLine($"  {e}");
            }
            return ExitCodes.Failure;
        });
        return command;
    }
}
