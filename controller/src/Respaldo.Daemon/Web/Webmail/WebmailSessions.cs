using System.Collections.Concurrent;
using System.Security.Cryptography;
using Respaldo.Configuration;
using Respaldo.Supervision;

namespace Respaldo.Daemon.Web.Webmail;

/// <summary>
/// The logged-in mailboxes, in memory only, each under a random 256-bit id (the only thing the
/// encrypted cookie carries). A session ends after the web's sessionTimeout without a request,
/// after 12 hours in any case, at logout, and when its mailbox loses its password in the
/// configuration. A restart of the daemon ends them all: users log in again.
/// </summary>
public sealed partial class WebmailSessions : IAsyncDisposable
{
    public static readonly TimeSpan MaxAge = Respaldo.Daemon.Web.Shared.WebSecurity.MaxSession;

    private readonly ConcurrentDictionary<string, WebmailSession> _sessions = new(StringComparer.Ordinal);
    private readonly RespaldoRuntime _runtime;
    private readonly TimeProvider _time;
    private readonly ILogger<WebmailSessions> _logger;
    private readonly ITimer _sweep;

    public WebmailSessions(RespaldoRuntime runtime, TimeProvider time, ILogger<WebmailSessions> logger)
    {
        _runtime = runtime;
        _time = time;
        _logger = logger;
        _sweep = time.CreateTimer(_ => _ = SweepAsync(), null, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
    }

    public int Count => _sessions.Count;

    public WebmailSession Start(string address, string tenantId, string password)
    {
        string id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var session = new WebmailSession(id, address, tenantId, password, _runtime.Settings.Listen.Imap, _time.GetUtcNow())
        {
            PasswordHash = WebmailAccess.Find(_runtime.Settings, address)?.Mailbox.PasswordHash,
        };
        _sessions[id] = session;
        return session;
    }

    /// <summary>The live session with this id, its idle clock restarted; null if it ended.</summary>
    public WebmailSession? Touch(string? id)
    {
        if (id is null || !_sessions.TryGetValue(id, out WebmailSession? session))
        {
            return null;
        }
        DateTimeOffset now = _time.GetUtcNow();
        if (Expired(session, now) || WebmailAccess.Find(_runtime.Settings, session.Address) is not { } found || found.Tenant.Id != session.TenantId
            // Note: a changed password (perhaps because it leaked) ends the sessions opened with the old one.
            || found.Mailbox.PasswordHash != session.PasswordHash)
        {
            _ = EndAsync(id);
            return null;
        }
        session.LastUsed = now;
        return session;
    }

    public async Task EndAsync(string id)
    {
        if (_sessions.TryRemove(id, out WebmailSession? session))
        {
            await session.DisposeAsync();
            LogEnded(_logger, session.TenantId, session.Address);
        }
    }

    private bool Expired(WebmailSession s, DateTimeOffset now) =>
        now - s.LastUsed > _runtime.Settings.Web.SessionTimeout || now - s.Created > MaxAge;

    private async Task SweepAsync()
    {
        DateTimeOffset now = _time.GetUtcNow();
        foreach ((string id, WebmailSession s) in _sessions)
        {
            if (Expired(s, now))
            {
                await EndAsync(id);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _sweep.DisposeAsync();
        foreach (string id in _sessions.Keys)
        {
            await EndAsync(id);
        }
    }

    [LoggerMessage(EventId = 2005, Level = LogLevel.Information, Message = "webmail: session of {Mailbox} (tenant {Tenant}) ended")]
    private static partial void LogEnded(ILogger logger, string tenant, string mailbox);
}
