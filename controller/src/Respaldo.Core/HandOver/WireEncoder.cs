namespace Respaldo.HandOver;

/// <summary>
/// Turns stored bytes (LF line ends, as Dovecot keeps them) into SMTP DATA (RFC 5321 §4.5.2):
/// each LF becomes CRLF, a line starting with '.' gets one more, and the data ends with
/// CRLF. Nothing else changes. A stored CR (Dovecot turned the wire's CRLF into LF, so any CR
/// left is a sender's bare CR) is never sent: it would go out as a bare CR, which a primary that
/// ends the data at &lt;CR&gt;.&lt;CR&gt; reads as the end of one message and the start of a
/// smuggled second one. <see cref="MessageSender"/> holds such a message before MAIL FROM (from
/// <see cref="MessageFacts.CarriageReturn"/>); should one reach the encoder anyway, it throws
/// <see cref="BareCarriageReturnException"/> before writing that chunk, and the session is dropped
/// without the final dot. So every CR and every LF on the wire is part of a CRLF.
/// For BDAT (RFC 3030) the same encoder runs without dot-stuffing (<c>dotStuffing: false</c>)
/// and ends with <see cref="FinishContent"/> instead of the lone dot: the bytes are then exactly
/// what a server stores from the DATA form once it has removed the stuffed dots and the final
/// dot, so a primary stores the same message whichever form it was sent in.
/// </summary>
/// <param name="dotStuffing">false for BDAT, whose chunks are counted, not ended by a dot.</param>
public sealed class WireEncoder(bool dotStuffing = true)
{
    private bool _atLineStart = true;

    /// <summary>The largest output <see cref="Encode"/> can produce for <paramref name="inputLength"/> bytes.</summary>
    public static int MaxOutput(int inputLength) => (inputLength * 2) + 2;

    /// <summary>Encodes one chunk; returns the bytes written to <paramref name="output"/>.</summary>
    public int Encode(ReadOnlySpan<byte> input, Span<byte> output)
    {
        if (input.Contains((byte)'\r'))
        {
            throw new BareCarriageReturnException();
        }
        int written = 0;
        while (input.Length > 0)
        {
            if (dotStuffing && _atLineStart && input[0] == (byte)'.')
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
        int written = FinishContent(output);
        ".\r\n"u8.CopyTo(output[written..]);
        return written + 3;
    }

    /// <summary>
    /// Ends the content without a terminator (BDAT): CRLF if the last line had none, as
    /// <see cref="Finish"/> adds before its dot (RFC 5321 §4.1.1.4: the CRLF before the dot
    /// belongs to the message), so both forms deliver the same last line.
    /// </summary>
    public int FinishContent(Span<byte> output)
    {
        if (_atLineStart)
        {
            return 0;
        }
        output[0] = (byte)'\r';
        output[1] = (byte)'\n';
        _atLineStart = true;
        return 2;
    }
}

/// <summary>A CR in the stored bytes: it cannot be sent without being a bare CR, nor removed without altering the message.</summary>
public sealed class BareCarriageReturnException : Exception
{
    public BareCarriageReturnException()
        : base("the stored message holds a bare CR, which is never sent to the primary")
    {
    }

    public BareCarriageReturnException(string message)
        : base(message)
    {
    }

    public BareCarriageReturnException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
