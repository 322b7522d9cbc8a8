using System.Text.RegularExpressions;

namespace Respaldo.Configuration;

// User accounts and API tokens (web.admins, tenants[].dashboardUsers, *.apiTokens).
public static partial class ConfigurationValidator
{
    private static IReadOnlyList<UserAccount> Users(List<UserSection?>? list, ConfigPath at)
    {
        var users = new List<UserAccount>();
        if (list is null)
        {
            return users;
        }
        for (int i = 0; i < list.Count; i++)
        {
            ConfigPath p = at.At(i);
            UserSection? u = list[i];
            if (u is null)
            {
                p.Error("must be an object");
                continue;
            }
            string name = u.User?.Trim() ?? "";
            if (!UserName().IsMatch(name))
            {
                p.At("user").Error($"\"{u.User}\" must be 1-64 letters, digits, '.', '_' or '-'");
            }
            else if (users.Any(x => x.User == name))
            {
                p.At("user").Error($"\"{name}\" is listed twice");
            }
            string? hash = PasswordHash(u.PasswordHash, p.At("passwordHash"));
            if (u.PasswordHash is null)
            {
                p.At("passwordHash").Error("required (make one with: respaldoctl passwd)");
            }
            users.Add(new UserAccount(name, hash ?? ""));
        }
        return users;
    }

    private static IReadOnlyList<ApiToken> ApiTokens(List<ApiTokenSection?>? list, ConfigPath at)
    {
        var tokens = new List<ApiToken>();
        for (int i = 0; i < (list?.Count ?? 0); i++)
        {
            ConfigPath p = at.At(i);
            ApiTokenSection? t = list![i];
            string name = t?.Name?.Trim() ?? "";
            string hash = t?.Sha256?.Trim().ToLowerInvariant() ?? "";
            if (!UserName().IsMatch(name))
            {
                p.At("name").Error($"\"{t?.Name}\" must be 1-64 letters, digits, '.', '_' or '-'");
            }
            // Note: tokens are 256 random bits, so a plain SHA-256 is enough (no bcrypt: it would
            // cost a quarter second per API call); never echo the value.
            if (!Sha256Hex().IsMatch(hash))
            {
                p.At("sha256").Error("must be 64 hex digits (make a token with: respaldoctl api-token NAME)");
            }
            tokens.Add(new ApiToken(name, hash));
        }
        return tokens;
    }

    [GeneratedRegex(@"\A[0-9a-f]{64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Sha256Hex();

    private static string? PasswordHash(string? text, ConfigPath at)
    {
        if (text is null)
        {
            return null;
        }
        // Note: only bcrypt for now: Dovecot verifies it (BLF-CRYPT through libxcrypt) and the
        // web login verifies the same string, so one hash serves both. Never echo the value.
        if (!BlowfishHash().IsMatch(text.Trim()))
        {
            at.Error("must be a {BLF-CRYPT}$2y$... hash (make one with: respaldoctl passwd)");
            return null;
        }
        return text.Trim();
    }
}
