namespace Respaldo.HandOver;

/// <summary>
/// What the sender must know about a message before MAIL FROM: its size on the wire
/// (RFC 1870 counts CRLF line ends, before dot-stuffing), whether it has 8-bit bytes
/// (BODY=8BITMIME, RFC 6152), its longest line (RFC 5321 §4.5.3.1.6 allows 998 octets) and
/// whether it holds a CR byte. Dovecot stores line ends as LF, so any stored CR would reach the
/// wire as a bare CR (RFC 5321 §2.3.8 forbids it), the stuff of SMTP smuggling.
/// </summary>
public sealed record MessageFacts(long WireSize, bool EightBit, int LongestLine, bool CarriageReturn = false)
{
    public const int MaxLineLength = 998;

    /// <summary>Accumulates facts over the bytes of a message, chunk by chunk.</summary>
    public sealed class Builder
    {
        private long _bytes;
        private long _lineFeeds;
        private bool _eightBit;
        private bool _carriageReturn;
        private int _line;
        private int _longest;

        public void Add(ReadOnlySpan<byte> chunk)
        {
            if (chunk.IsEmpty)
            {
                return;
            }
            _bytes += chunk.Length;
            if (!_eightBit && chunk.IndexOfAnyInRange((byte)0x80, (byte)0xff) >= 0)
            {
                _eightBit = true;
            }
            if (!_carriageReturn && chunk.Contains((byte)'\r'))
            {
                _carriageReturn = true;
            }
            while (true)
            {
                int lf = chunk.IndexOf((byte)'\n');
                if (lf < 0)
                {
                    _line += chunk.Length;
                    break;
                }
                _line += lf;
                _longest = Math.Max(_longest, _line);
                _line = 0;
                _lineFeeds++;
                chunk = chunk[(lf + 1)..];
            }
            _longest = Math.Max(_longest, _line);
        }

        public MessageFacts Build()
        {
            // Each LF goes out as CRLF; a last line without LF gets one.
            long wire = _bytes + _lineFeeds + (_line > 0 ? 2 : 0);
            return new MessageFacts(wire, _eightBit, _longest, _carriageReturn);
        }
    }
}
