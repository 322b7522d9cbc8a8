using System.Globalization;
using System.Net;

namespace Respaldo.Configuration;

/// <summary>A host and a port: <c>host:port</c>, <c>[v6]:port</c>, or <c>*:port</c> for every address.</summary>
public sealed record HostPort(string Host, int Port)
{
    public bool IsWildcard => Host == "*";

    /// <summary>The form Postfix's master.cf and Kestrel understand.</summary>
    public override string ToString() =>
        Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>Parses <paramref name="text"/>; a missing port takes <paramref name="defaultPort"/> when given.</summary>
    public static bool TryParse(string? text, int? defaultPort, out HostPort endpoint, out string error)
    {
        endpoint = new HostPort("", 0);
        error = "";
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "must not be empty";
            return false;
        }
        string host;
        string? portText;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                error = $"\"{text}\": missing ']' after an IPv6 address";
                return false;
            }
            host = text[1..close];
            string rest = text[(close + 1)..];
            portText = rest.Length == 0 ? null : rest.StartsWith(':') ? rest[1..] : null;
            if (rest.Length != 0 && !rest.StartsWith(':'))
            {
                error = $"\"{text}\": expected ':port' after ']'";
                return false;
            }
            if (!IPAddress.TryParse(host, out _))
            {
                error = $"\"{text}\": \"{host}\" is not an IPv6 address";
                return false;
            }
        }
        else
        {
            int colon = text.LastIndexOf(':');
            if (colon >= 0 && text.IndexOf(':', StringComparison.Ordinal) != colon)
            {
                error = $"\"{text}\": write an IPv6 address as [address]:port";
                return false;
            }
            host = colon < 0 ? text : text[..colon];
            portText = colon < 0 ? null : text[(colon + 1)..];
            if (host != "*" && !HostName.IsValid(host) && !IPAddress.TryParse(host, out _))
            {
                error = $"\"{text}\": \"{host}\" is neither a host name nor an IP address";
                return false;
            }
        }
        int port;
        if (portText is null)
        {
            if (defaultPort is null)
            {
                error = $"\"{text}\": a port is required (host:port)";
                return false;
            }
            port = defaultPort.Value;
        }
        else if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
        {
            error = $"\"{text}\": the port must be a number from 1 to 65535";
            return false;
        }
        endpoint = new HostPort(host.ToLowerInvariant(), port);
        return true;
    }
}
