using System.Net;
using System.Net.Sockets;
using DnsClient;
using Respaldo.Configuration;

namespace Respaldo.Smtp;

/// <summary>
/// Turns a primary's host name into addresses: through <c>dns.resolvers</c> when the
/// configuration names any (DnsClient, A then AAAA), else through the system's resolver.
/// </summary>
/// <remarks>
/// Note: one instance for the process (<see cref="Current"/>), replaced when the settings are
/// loaded or reloaded: every SMTP connection (probe, callout, hand-over) resolves the same way
/// as rspamd does at the border, without each caller carrying the settings down to the socket.
/// </remarks>
public sealed class HostResolver
{
    private static volatile HostResolver s_current = new([]);

    private readonly LookupClient? _client;

    public HostResolver(IReadOnlyList<HostPort> servers)
    {
        if (servers.Count > 0)
        {
            _client = new LookupClient(new LookupClientOptions(servers.Select(s => new IPEndPoint(IPAddress.Parse(s.Host), s.Port)).ToArray())
            {
                UseCache = true,
                Timeout = TimeSpan.FromSeconds(5),
                Retries = 2,
                ThrowDnsErrors = false,
                UseTcpFallback = true,
            });
        }
    }

    public static HostResolver Current => s_current;

    /// <summary>Makes <paramref name="settings"/>' resolvers the process's.</summary>
    public static void Use(RespaldoSettings settings) => s_current = new HostResolver(settings.Dns.Resolvers);

    /// <summary>The addresses of <paramref name="host"/> (an IP literal is its own); SocketException(HostNotFound) when there are none.</summary>
    public async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host, out IPAddress? literal))
        {
            return [literal];
        }
        if (_client is null)
        {
            return await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        }
        var addresses = new List<IPAddress>();
        foreach (QueryType type in new[] { QueryType.A, QueryType.AAAA })
        {
            IDnsQueryResponse response = await _client.QueryAsync(host, type, QueryClass.IN, cancellationToken).ConfigureAwait(false);
            if (response.HasError && response.Header.ResponseCode != DnsHeaderResponseCode.NotExistentDomain)
            {
                // Note: SERVFAIL, REFUSED, a timeout: the name could not be looked up now (a transient failure).
                throw new SocketException((int)SocketError.TryAgain, $"{host}: {response.ErrorMessage}");
            }
            addresses.AddRange(response.Answers.ARecords().Select(a => a.Address));
            addresses.AddRange(response.Answers.AaaaRecords().Select(a => a.Address));
        }
        return addresses.Count > 0 ? [.. addresses] : throw new SocketException((int)SocketError.HostNotFound, $"{host}: no address");
    }
}
