using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Respaldo.Configuration;
using Respaldo.Supervision;

namespace Respaldo.Daemon.Web.Dashboard;

/// <summary>
/// "Authorization: Bearer TOKEN" for scripts. The configuration keeps only each token's SHA-256
/// (web.apiTokens: every tenant; tenants[].apiTokens: that tenant); the presented token is hashed
/// and compared in constant time. No cookie is involved, so token requests need no anti-forgery.
/// </summary>
internal sealed class ApiTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, RespaldoRuntime runtime)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        byte[] presented = SHA256.HashData(Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim()));
        RespaldoSettings settings = runtime.Settings;
        bool Matches(ApiToken t) => t.Sha256.Length == 64 && CryptographicOperations.FixedTimeEquals(Convert.FromHexString(t.Sha256), presented);
        if (settings.Web.ApiTokens.FirstOrDefault(Matches) is { } admin)
        {
            return Task.FromResult(Success("token:" + admin.Name, DashboardAccess.Admin, null));
        }
        foreach (Tenant tenant in settings.Tenants)
        {
            if (tenant.ApiTokens.FirstOrDefault(Matches) is { } token)
            {
                return Task.FromResult(Success("token:" + token.Name, "tenant", tenant.Id));
            }
        }
        return Task.FromResult(AuthenticateResult.Fail("unknown API token"));
    }

    private AuthenticateResult Success(string name, string role, string? tenant) =>
        AuthenticateResult.Success(new AuthenticationTicket(DashboardAccess.Principal(name, role, tenant, Scheme.Name), Scheme.Name));
}
