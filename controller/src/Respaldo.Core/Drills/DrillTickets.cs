using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Respaldo.Drills;

/// <summary>A drill the daemon started: the envelope sender that carries its token, for one recipient of one tenant, until it expires.</summary>
public sealed record DrillTicket(string Id, string TenantId, string Recipient, string Sender, DateTimeOffset Expires);

/// <summary>
/// The fire drill's pass through "accept only while the primary is down": the drill's envelope
/// sender is <c>respaldo-drill+ID.MAC@HOSTNAME</c>, where ID is random and MAC is HMAC-SHA256
/// (truncated to 96 bits) over the tenant, the recipient, the ID and the expiry, keyed with a
/// secret this process draws at start. The front door lets a RCPT past its first rule only when
/// the sender names a ticket this process issued and has not redeemed, for that tenant and
/// recipient, before its expiry, and its MAC verifies; the ticket is then spent.
/// </summary>
/// <remarks>
/// SECURITY: a header or a sender anyone can write proves nothing; this proves that the daemon
/// itself started this drill minutes ago. The key never leaves memory (never written, never
/// logged): tickets live only in this process, so a key that outlived it would protect nothing,
/// and a restart voids every open ticket. A forged, replayed, expired or misdirected token gets
/// the ordinary answer, and every other rule of the border (size, recipient, storage, rspamd)
/// still applies to the drill.
/// </remarks>
public sealed class DrillTickets
{
    /// <summary>The local part's prefix of every drill sender.</summary>
    public const string Prefix = "respaldo-drill+";

    /// <summary>How long a ticket may be redeemed: the drill's SMTP session is seconds long.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    private const int MacBytes = 12;

    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private readonly Dictionary<string, DrillTicket> _open = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    /// <summary>A new ticket for a drill of <paramref name="tenantId"/> to <paramref name="recipient"/> (normalized), its sender in <paramref name="hostname"/>.</summary>
    public DrillTicket Issue(string tenantId, string recipient, string hostname, DateTimeOffset now)
    {
        string id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        DateTimeOffset expires = now + Lifetime;
        string mac = Mac(tenantId, recipient, id, expires);
        var ticket = new DrillTicket(id, tenantId, recipient, $"{Prefix}{id}.{mac}@{hostname}", expires);
        lock (_gate)
        {
            Purge(now);
            _open[id] = ticket;
        }
        return ticket;
    }

    /// <summary>True when <paramref name="sender"/> looks like a drill's sender (cheap; says nothing of its token).</summary>
    public static bool LooksLikeDrill(string sender) => sender.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Spends the ticket named by <paramref name="sender"/> if it is open, for this tenant and
    /// recipient, not expired, and its MAC verifies; false otherwise (the ticket, if any, stays
    /// open for the real drill: a wrong guess must not spend it).
    /// </summary>
    public bool TryRedeem(string tenantId, string recipient, string sender, DateTimeOffset now)
    {
        if (!TryParse(sender, out string id, out byte[] mac))
        {
            return false;
        }
        lock (_gate)
        {
            Purge(now);
            if (!_open.TryGetValue(id, out DrillTicket? ticket))
            {
                return false;
            }
            byte[] expected = Convert.FromHexString(Mac(tenantId, recipient, id, ticket.Expires));
            // Note: the MAC is over the tenant and recipient of this request, so a token for
            // another tenant or mailbox fails here, compared in constant time.
            if (!CryptographicOperations.FixedTimeEquals(expected, mac)
                || ticket.TenantId != tenantId || ticket.Recipient != recipient
                || !string.Equals(ticket.Sender, sender, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
            _open.Remove(id);
            return true;
        }
    }

    /// <summary>Forgets a ticket its drill no longer needs (it ended before its RCPT).</summary>
    public void Withdraw(string id)
    {
        lock (_gate)
        {
            _open.Remove(id);
        }
    }

    private static bool TryParse(string sender, out string id, out byte[] mac)
    {
        id = "";
        mac = [];
        int at = sender.LastIndexOf('@');
        if (!LooksLikeDrill(sender) || at < 0)
        {
            return false;
        }
        string token = sender[Prefix.Length..at];
        int dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot != 16 || token.Length != dot + 1 + (MacBytes * 2))
        {
            return false;
        }
        id = token[..dot].ToLowerInvariant();
        try
        {
            mac = Convert.FromHexString(token[(dot + 1)..]);
        }
        catch (FormatException)
        {
            return false;
        }
        return true;
    }

    private string Mac(string tenantId, string recipient, string id, DateTimeOffset expires)
    {
        byte[] data = Encoding.UTF8.GetBytes(string.Join('\n', tenantId, recipient, id, expires.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)));
        return Convert.ToHexStringLower(HMACSHA256.HashData(_key, data).AsSpan(0, MacBytes));
    }

    private void Purge(DateTimeOffset now)
    {
        foreach (string id in _open.Where(t => t.Value.Expires <= now).Select(t => t.Key).ToList())
        {
            _open.Remove(id);
        }
    }
}
