using System.Security.Claims;
using Respaldo.Configuration;
using Respaldo.Security;

namespace Respaldo.Daemon.Web.Dashboard;

/// <summary>
/// Who may see what. A dashboard user belongs to one tenant and sees only it; a provider admin
/// (web.admins) sees every tenant. API tokens carry the same two roles. Every page and API call
/// asks <see cref="CanSee"/> for the tenant in its URL.
/// </summary>
public static class DashboardAccess
{
    public const string CookieScheme = "Dashboard";
    public const string TokenScheme = "ApiToken";
    public const string PagesPolicy = "dashboard";
    public const string ReadPolicy = "api-read";
    public const string WritePolicy = "api-write";
    public const string RoleClaim = "respaldo:role";
    public const string TenantClaim = "respaldo:tenant";
    public const string StampClaim = "respaldo:stamp";
    public const string Admin = "admin";

    // Note: checked when the user does not exist, so a wrong name costs as long as a wrong
    // password and the login form does not tell which names exist.
    private static readonly string DummyHash = PasswordHash.Create("not a password", PasswordHash.DefaultCost);

    /// <summary>The principal for a correct user and password, or null.</summary>
    public static ClaimsPrincipal? Login(RespaldoSettings settings, string user, string password)
    {
        UserAccount? admin = settings.Web.Admins.FirstOrDefault(a => a.User == user);
        (Tenant Tenant, UserAccount Account)? member = settings.Tenants
            .SelectMany(t => t.DashboardUsers.Select(u => (Tenant: t, Account: u)))
            .FirstOrDefault(p => p.Account.User == user) is { Account: not null } found ? found : null;
        string hash = admin?.PasswordHash ?? member?.Account.PasswordHash ?? DummyHash;
        if (!PasswordHash.Verify(password, hash) || (admin is null && member is null))
        {
            return null;
        }
        ClaimsPrincipal principal = admin is not null ? Principal(user, Admin, null, CookieScheme) : Principal(user, "tenant", member!.Value.Tenant.Id, CookieScheme);
        ((ClaimsIdentity)principal.Identity!).AddClaim(new Claim(StampClaim, Stamp(hash)));
        return principal;
    }

    /// <summary>
    /// What binds a session to the password it was made with: a digest of the stored hash (the
    /// hash itself never goes into a cookie, even an encrypted one). A new password in the
    /// configuration gives a new stamp, and every older session ends at its next request.
    /// </summary>
    public static string Stamp(string passwordHash) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("respaldo-session:" + passwordHash)))[..32];

    public static ClaimsPrincipal Principal(string name, string role, string? tenant, string scheme)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, name), new(RoleClaim, role) };
        if (tenant is not null)
        {
            claims.Add(new Claim(TenantClaim, tenant));
        }
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme, ClaimTypes.Name, RoleClaim));
    }

    /// <summary>
    /// A session stays valid only while its user is still configured with the same role, tenant
    /// and password (<see cref="Stamp"/>): a removed user or a changed password ends it.
    /// </summary>
    public static bool StillValid(ClaimsPrincipal user, RespaldoSettings settings)
    {
        string? name = user.Identity?.Name;
        string? stamp = user.FindFirst(StampClaim)?.Value;
        if (name is null || stamp is null)
        {
            return false;
        }
        bool Same(UserAccount a) => a.User == name && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.ASCII.GetBytes(Stamp(a.PasswordHash)), System.Text.Encoding.ASCII.GetBytes(stamp));
        if (IsAdmin(user))
        {
            return settings.Web.Admins.Any(Same);
        }
        string? tenant = user.FindFirst(TenantClaim)?.Value;
        return settings.Tenants.Any(t => t.Id == tenant && t.DashboardUsers.Any(Same));
    }

    public static bool IsAdmin(ClaimsPrincipal user) => user.FindFirst(RoleClaim)?.Value == Admin;

    public static bool CanSee(ClaimsPrincipal user, string tenantId) =>
        user.Identity?.IsAuthenticated == true && (IsAdmin(user) || user.FindFirst(TenantClaim)?.Value == tenantId);

    /// <summary>The tenants this user may see, in configuration order.</summary>
    public static IReadOnlyList<Tenant> Visible(ClaimsPrincipal user, RespaldoSettings settings) =>
        settings.Tenants.Where(t => CanSee(user, t.Id)).ToList();

    /// <summary>The tenant named in a URL, if it exists and this user may see it; otherwise null (answered 404 either way, so ids cannot be probed).</summary>
    public static Tenant? Resolve(ClaimsPrincipal user, RespaldoSettings settings, string? tenantId) =>
        tenantId is not null && CanSee(user, tenantId) ? settings.Tenants.FirstOrDefault(t => t.Id == tenantId) : null;
}
