using System.CommandLine;
using Respaldo.Configuration;
using Respaldo.Journaling;

namespace Respaldo.Ctl.Commands;

/// <summary>
/// <c>respaldoctl journal check|recover [--journal FILE]</c>: SQLite's integrity check of the
/// journal, and its rebuild from the rows that can still be read (the damaged file kept aside).
/// Offline: run while respaldo is stopped, as root or the mail user.
/// </summary>
internal static class JournalCommand
{
    public static Command Create()
    {
        var command = new Command("journal", "check or rebuild the journal (run while respaldo is stopped)");
        command.Subcommands.Add(Check());
        command.Subcommands.Add(Recover());
        return command;
    }

    private static Option<string?> JournalOption() => new("--journal")
    {
        Description = "journal file (default: journal.sqlite in the configuration's stateDirectory)",
    };

    private static string? ResolvePath(ParseResult result, Option<string?> journal, Option<string?> config)
    {
        if (result.GetValue(journal) is { } given)
        {
            return given;
        }
        string path = ConfigurationLoader.ResolvePath(result.GetValue(config));
        (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) = ConfigurationLoader.TryLoad(path);
        if (settings is null)
        {
            Console.Error.WriteLine($"{Path.GetFullPath(path)}: {errors.Count} error(s); name the journal with --journal");
            return null;
        }
        return settings.JournalPath;
    }

    private static Command Check()
    {
        Option<string?> journal = JournalOption();
        Option<string?> config = CommonOptions.Config();
        var command = new Command("check", "SQLite's integrity check of the journal; exit 1 when it is damaged") { journal, config };
        command.SetAction(result =>
        {
            if (ResolvePath(result, journal, config) is not { } path)
            {
                return ExitCodes.Failure;
            }
            try
            {
                JournalCheck check = JournalRepair.Check(path);
                if (check.Intact)
                {
                    Console.WriteLine($"{path}: intact");
                    return ExitCodes.Success;
                }
                Console.Error.WriteLine($"{path}: damaged, {check.Problems.Count} problem(s); 'respaldoctl journal recover' rebuilds it");
                foreach (string problem in check.Problems.Take(50))
                {
                    Console.Error.WriteLine($"  {problem}");
                }
                return ExitCodes.Failure;
            }
            catch (FileNotFoundException e)
            {
                Console.Error.WriteLine(e.Message);
                return ExitCodes.Failure;
            }
        });
        return command;
    }

    private static Command Recover()
    {
        Option<string?> journal = JournalOption();
        Option<string?> config = CommonOptions.Config();
        var command = new Command("recover", "rebuild the journal from the rows that can be read; the damaged file is kept aside") { journal, config };
        command.SetAction(result =>
        {
            if (ResolvePath(result, journal, config) is not { } path)
            {
                return ExitCodes.Failure;
            }
            try
            {
                JournalRecovery done = JournalRepair.Recover(path, DateTimeOffset.UtcNow);
                Console.WriteLine($"{path}: rebuilt (sqlite3 .{done.Method}); the damaged file is kept as {done.DamagedCopy}");
                foreach ((string table, long rows) in done.Rows)
                {
                    Console.WriteLine($"  {table}: {rows} row(s)");
                }
                return ExitCodes.Success;
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"{path}: not recovered: {e.Message}");
                return ExitCodes.Failure;
            }
        });
        return command;
    }
}
