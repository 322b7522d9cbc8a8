using System.CommandLine;
using System.Security.Cryptography;
using System.Text;

namespace Respaldo.Ctl.Commands;

/// <summary>
/// <c>respaldoctl api-token NAME</c>: makes a token for the JSON status API. Prints the token
/// (give it to the script; it is shown once and stored nowhere) and the configuration entry
/// holding only its SHA-256, for <c>tenants[].apiTokens</c> or <c>web.apiTokens</c>.
/// </summary>
internal static class ApiTokenCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "a name for the token, shown in logs (letters, digits, '.', '_', '-')" };
        var command = new Command("api-token", "make a status API token and its configuration entry") { name };
        command.SetAction(result =>
        {
            string n = result.GetValue(name)!;
            if (!System.Text.RegularExpressions.Regex.IsMatch(n, "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"))
            {
                Console.Error.WriteLine("the name must be 1-64 letters, digits, '.', '_' or '-'");
                return ExitCodes.Usage;
            }
            // Note: 256 random bits, URL-safe; the daemon compares SHA-256 digests in constant time.
            string token = "rsp_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
            Console.WriteLine($"token:  {token}");
            Console.WriteLine($"config: {{ \"name\": \"{n}\", \"sha256\": \"{hash}\" }}");
            return ExitCodes.Success;
        });
        return command;
    }
}
