namespace Respaldo.HandOver;

/// <summary>
/// Turns stored bytes (LF line ends, as Dovecot keeps them) into SMTP DATA (RFC 5321 §4.5.2):
/// each LF becomes CRLF, a line starting with '.' gets one more, and the data ends with
/// CRLF. Nothing else changes: a CR stored before an LF is the sender's own bare CR (Dovecot
/// turned the wire's CRLF into LF) and goes out again as it came in.
/// </summary>
public sealed class WireEncoder
{
    private bool _atLineStart = true;

    /// <summary>The largest output <see cref="Encode"/> can produce for <paramref name="inputLength"/> bytes.</summary>
    public static int MaxOutput(int inputLength) => (inputLength * 2) + 2;

    /// <summary>Encodes one chunk; returns the bytes written to <paramref name="output"/>.</summary>
    public int Encode(ReadOnlySpan<byte> input, Span<byte> output)
    {
        int written = 0;
        while (input.Length > 0)
        {
            if (_atLineStart && input[0] == (byte)'.')
            {
                output[written++] = (byte)'.';
            }
            int lf = input.IndexOf((byte)'\n');
            if (lf < 0)
            {
                input.CopyTo(output[written..]);
                written += input.Length;
                _atLineStart = false;
                return written;
            }
            input[..lf].CopyTo(output[written..]);
            written += lf;
            output[written++] = (byte)'\r';
            output[written++] = (byte)'\n';
            input = input[(lf + 1)..];
            _atLineStart = true;
        }
        return written;
    }

    /// <summary>Ends the data: CRLF if the last line had none, then the lone dot.</summary>
    public int Finish(Span<byte> output)
    {
        int written = 0;
        if (!_atLineStart)
        {
            output[written++] = (byte)'\r';
            output[written++] = (byte)'\n';
        }
        ".\r\n"u8.CopyTo(output[written..]);
        return written + 3;
    }
}
