using System.Text;

namespace Respaldo.Policy;

/// <summary>
/// Reads requests and writes answers of the policy delegation protocol on one connection:
/// a request is <c>name=value</c> lines ended by an empty line; the answer is
/// <c>action=...</c> and an empty line. Postfix keeps the connection and sends the next request
/// on it. Lines and requests are bounded, so a misbehaving peer cannot make us buffer without end.
/// </summary>
public sealed class PolicyProtocol(Stream stream)
{
    private const int MaxLine = 8 * 1024;
    private const int MaxAttributes = 128;

    private readonly byte[] _buffer = new byte[MaxLine];
    private int _start;
    private int _end;

    /// <summary>The next request, or null when the peer closed the connection between requests.</summary>
    public async Task<PolicyRequest?> ReadAsync(CancellationToken cancellationToken)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        bool any = false;
        while (true)
        {
            string? line = await ReadLineAsync(cancellationToken);
            if (line is null)
            {
                return any ? throw new InvalidDataException("the connection closed in the middle of a policy request") : null;
            }
            if (line.Length == 0)
            {
                if (!any)
                {
                    continue;
                }
                return new PolicyRequest(attributes);
            }
            any = true;
            int eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new InvalidDataException("a policy request line is not name=value");
            }
            if (attributes.Count >= MaxAttributes)
            {
                throw new InvalidDataException($"a policy request has more than {MaxAttributes} attributes");
            }
            // Note: a repeated name keeps its last value, as Postfix's own attr_scan does.
            attributes[line[..eq]] = line[(eq + 1)..];
        }
    }

    public async Task WriteAsync(PolicyDecision decision, CancellationToken cancellationToken)
    {
        string action = decision.Action.Replace('\n', ' ').Replace('\r', ' ');
        await stream.WriteAsync(Encoding.UTF8.GetBytes($"action={action}\n\n"), cancellationToken);
        await stream.FlushAsync(cancellationToken);
    }

    private async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            int lf = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (lf >= 0)
            {
                // Note: values may hold 8-bit bytes (SMTPUTF8 addresses); invalid UTF-8 becomes U+FFFD.
                string line = Encoding.UTF8.GetString(_buffer, _start, lf - _start);
                _start = lf + 1;
                return line;
            }
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length)
            {
                throw new InvalidDataException($"a policy request line is longer than {MaxLine} bytes");
            }
            int n = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            if (n == 0)
            {
                if (_end > _start)
                {
                    throw new InvalidDataException("the connection closed in the middle of a line");
                }
                return null;
            }
            _end += n;
        }
    }
}
