namespace Respaldo.Security;

/// <summary>
/// Password hashes in the one form both Dovecot (passdb scheme BLF-CRYPT, checked through
/// libxcrypt) and the web login understand: <c>{BLF-CRYPT}$2y$12$...</c>.
/// </summary>
public static class PasswordHash
{
    public const string Scheme = "{BLF-CRYPT}";
    public const int DefaultCost = 12;

    public static string Create(string password, int cost = DefaultCost)
    {
        ArgumentException.ThrowIfNullOrEmpty(password);
        ArgumentOutOfRangeException.ThrowIfLessThan(cost, 4);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(cost, 31);
        string salt = BCrypt.Net.BCrypt.GenerateSalt(cost, 'y');
        return Scheme + BCrypt.Net.BCrypt.HashPassword(password, salt);
    }

    /// <summary>Constant-time check of <paramref name="password"/> against a stored hash.</summary>
    public static bool Verify(string password, string storedHash)
    {
        if (string.IsNullOrEmpty(password) || !storedHash.StartsWith(Scheme, StringComparison.Ordinal))
        {
            return false;
        }
        try
        {
            return BCrypt.Net.BCrypt.Verify(password, storedHash[Scheme.Length..]);
        }
        catch (BCrypt.Net.SaltParseException)
        {
            return false;
        }
    }
}
