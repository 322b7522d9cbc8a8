using MailKit;
using MailKit.Net.Imap;
using MailKit.Security;
using Respaldo.Configuration;

namespace Respaldo.Daemon.Web.Webmail;

/// <summary>
/// One logged-in mailbox: its IMAP connection to the local Dovecot, opened with the user's own
/// password and reused by the user's requests one at a time. The password lives only here, in
/// memory, until the session ends (logout, idle timeout, daemon restart).
/// </summary>
public sealed class WebmailSession : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly string _password;
    private ImapClient? _client;

    public WebmailSession(string id, string address, string tenantId, string password, HostPort imap, DateTimeOffset now)
    {
        Id = id;
        Address = address;
        TenantId = tenantId;
        _password = password;
        Imap = imap;
        Created = now;
        LastUsed = now;
    }

    public string Id { get; }

    public string Address { get; }

    public string TenantId { get; }

    public HostPort Imap { get; }

    public DateTimeOffset Created { get; }

    /// <summary>The mailbox's password hash in the configuration when the session began.</summary>
    public string? PasswordHash { get; init; }

    public DateTimeOffset LastUsed { get; set; }

    /// <summary>
    /// Logs in to Dovecot as <paramref name="address"/>; returns the connected client or throws
    /// <see cref="AuthenticationException"/> (wrong password) or an I/O error (Dovecot down).
    /// </summary>
    public static async Task<ImapClient> ConnectAsync(HostPort imap, string address, string password, CancellationToken cancellationToken)
    {
        var client = new ImapClient { Timeout = 30_000 };
        try
        {
            // Note: Dovecot listens on the loopback only (listen.imap) with ssl = no; nothing
            // crosses the network, so plain LOGIN is acceptable here.
            await client.ConnectAsync(imap.Host, imap.Port, SecureSocketOptions.None, cancellationToken);
            await client.AuthenticateAsync(address, password, cancellationToken);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Takes over the client of a successful login, so the first page needs no second login.</summary>
    public void Adopt(ImapClient client) => _client = client;

    /// <summary>
    /// Runs <paramref name="work"/> on this mailbox's INBOX, opened read-write (reading sets
    /// \Seen; nothing here ever sets \Deleted or expunges). Reconnects once if Dovecot closed
    /// the connection meanwhile.
    /// </summary>
    public async Task<T> UseAsync<T>(Func<IMailFolder, Task<T>> work, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            for (int attempt = 0; ; attempt++)
            {
                try
                {
                    IMailFolder inbox = await InboxAsync(cancellationToken);
                    return await work(inbox);
                }
                catch (Exception e) when (attempt == 0 && e is ImapProtocolException or IOException or ServiceNotConnectedException)
                {
                    // Note: an idle connection Dovecot dropped (imap_idle_notify / restart): once more on a new one.
                    Drop();
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<IMailFolder> InboxAsync(CancellationToken cancellationToken)
    {
        if (_client is not { IsConnected: true, IsAuthenticated: true })
        {
            Drop();
            _client = await ConnectAsync(Imap, Address, _password, cancellationToken);
        }
        IMailFolder inbox = _client.Inbox;
        if (!inbox.IsOpen || inbox.Access != FolderAccess.ReadWrite)
        {
            await inbox.OpenAsync(FolderAccess.ReadWrite, cancellationToken);
        }
        else
        {
            // Note: NOOP lets Dovecot report messages that arrived or were handed over (and so
            // vanished from the maildir) since this connection last looked.
            await _client.NoOpAsync(cancellationToken);
        }
        return inbox;
    }

    private RenderedBody? _rendered;

    /// <summary>
    /// Keeps the frame's document the message page just made, so the frame's own request (which
    /// follows at once) does not fetch and sanitize the HTML a second time. One per session.
    /// </summary>
    public void KeepRendered(RenderedBody body) => Interlocked.Exchange(ref _rendered, body);

    /// <summary>The kept document for this message and image choice, taken (not kept twice); null otherwise.</summary>
    public string? TakeRendered(uint validity, uint uid, bool remoteImages)
    {
        RenderedBody? kept = Interlocked.Exchange(ref _rendered, null);
        return kept is not null && kept.Validity == validity && kept.Uid == uid && kept.RemoteImages == remoteImages ? kept.Document : null;
    }

    /// <summary>Sends mail as this mailbox through the backup's own submission service (<see cref="Outbox"/>).</summary>
    public Task SendAsync(MimeKit.MimeMessage message, HostPort submission, CancellationToken cancellationToken) =>
        Outbox.SendAsync(message, submission, Address, _password, cancellationToken);

    private void Drop()
    {
        ImapClient? c = _client;
        _client = null;
        c?.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (_client is { IsConnected: true } c)
            {
                try
                {
                    await c.DisconnectAsync(true);
                }
                catch (Exception e) when (e is IOException or ImapProtocolException or ImapCommandException or OperationCanceledException)
                {
                    // Note: the session ends either way; Dovecot notices the closed socket.
                }
            }
            Drop();
        }
        finally
        {
            _gate.Release();
        }
        _gate.Dispose();
    }
}

/// <summary>A message's frame document, made by the message page for the frame's request.</summary>
public sealed record RenderedBody(uint Validity, uint Uid, bool RemoteImages, string Document);
