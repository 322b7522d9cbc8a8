using System.CommandLine;
using System.Text;
using Respaldo.Security;

namespace Respaldo.Ctl.Commands;

/// <summary>
/// <c>respaldoctl passwd</c>: hashes a password for a mailbox (webmail) or a dashboard user.
/// Asks twice on a terminal without echo; reads one line when standard input is a pipe.
/// </summary>
internal static class PasswdCommand
{
    public static Command Create()
    {
        var cost = new Option<int>("--cost")
        {
            Description = "bcrypt cost (4-31); each step doubles the work of a login",
            DefaultValueFactory = _ => PasswordHash.DefaultCost,
        };
        var command = new Command("passwd", "print a {BLF-CRYPT} hash of a password, for passwordHash fields") { cost };
        command.SetAction(result =>
        {
            int c = result.GetValue(cost);
            if (c is < 4 or > 31)
            {
                Console.Error.WriteLine("--cost must be from 4 to 31");
                return ExitCodes.Usage;
            }
            string? password;
            if (Console.IsInputRedirected)
            {
                password = Console.In.ReadLine();
            }
            else
            {
                password = ReadHidden("Password: ");
                if (ReadHidden("Again: ") != password)
                {
                    Console.Error.WriteLine("the passwords differ; nothing printed");
                    return ExitCodes.Failure;
                }
            }
            if (string.IsNullOrEmpty(password))
            {
                Console.Error.WriteLine("empty password refused");
                return ExitCodes.Failure;
            }
            Console.WriteLine(PasswordHash.Create(password, c));
            return ExitCodes.Success;
        });
        return command;
    }

    private static string ReadHidden(string prompt)
    {
        Console.Error.Write(prompt);
        var text = new StringBuilder();
        while (true)
        {
            ConsoleKeyInfo key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                Console.Error.WriteLine();
                return text.ToString();
            }
            if (key.Key == ConsoleKey.Backspace)
            {
                if (text.Length > 0)
                {
                    text.Length--;
                }
            }
            else if (key.KeyChar != '\0')
            {
                text.Append(key.KeyChar);
            }
        }
    }
}
