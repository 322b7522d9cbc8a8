using System.Text;

namespace Respaldo.Mailboxes;

/// <summary>
/// Finds the trace headers that the backup's final delivery prepended to a stored message
/// and nothing else: Dovecot's LMTP writes, at the very top and in this order,
/// <c>Return-Path: &lt;sender&gt;</c>, <c>Delivered-To: rcpt</c> and a <c>Received: ... with LMTP ...</c>
/// line (possibly folded). Headers of the same names further down belong to the message
/// (a sender may forge them) and are kept. Postfix's own smtpd <c>Received:</c> line stays: a
/// plain relay would have passed it on too (docs/ARCHITECTURE.md, "The hand-over").
/// </summary>
public static class TraceHeaders
{
    private static ReadOnlySpan<byte> ReturnPath => "Return-Path:"u8;
    private static ReadOnlySpan<byte> DeliveredTo => "Delivered-To:"u8;
    private static ReadOnlySpan<byte> Received => "Received:"u8;
    private static ReadOnlySpan<byte> WithLmtp => " with LMTP"u8;

    /// <summary>
    /// What was found at the top of <paramref name="head"/> (the first bytes of the file).
    /// <see cref="ViaLmtp"/>: the three headers were all there, in Dovecot's order, ending with its
    /// "with LMTP" Received line, as a delivery from the backup's Postfix leaves them.
    /// </summary>
    public sealed record Result(string? Sender, string? Recipient, int Length, bool ViaLmtp = false);

    /// <summary>
    /// Parses the start of a stored message. <see cref="Result.Length"/> is the number of bytes
    /// the trace headers occupy (0 when there are none); <see cref="Result.Sender"/> is null when
    /// there is no Return-Path, "" for the null sender.
    /// </summary>
    public static Result Parse(ReadOnlySpan<byte> head)
    {
        int offset = 0;
        if (!TryHeader(head, offset, ReturnPath, out int end, out ReadOnlySpan<byte> value))
        {
            return new Result(null, null, 0);
        }
        string? sender = AngleAddress(value);
        if (sender is null)
        {
            return new Result(null, null, 0);
        }
        offset = end;
        string? recipient = null;
        if (TryHeader(head, offset, DeliveredTo, out end, out value))
        {
            recipient = Encoding.UTF8.GetString(value.Trim(" \t\r\n"u8));
            offset = end;
        }
        bool viaLmtp = false;
        if (TryHeader(head, offset, Received, out end, out value) && value.IndexOf(WithLmtp) >= 0)
        {
            offset = end;
            viaLmtp = recipient is not null;
        }
        return new Result(sender, recipient, offset, viaLmtp);
    }

    /// <summary>A header starting exactly at <paramref name="offset"/> with its folded continuation lines.</summary>
    private static bool TryHeader(ReadOnlySpan<byte> head, int offset, ReadOnlySpan<byte> name, out int end, out ReadOnlySpan<byte> value)
    {
        end = 0;
        value = default;
        ReadOnlySpan<byte> rest = head[offset..];
        if (!rest.StartsWith(name))
        {
            return false;
        }
        int position = 0;
        while (true)
        {
            int lf = rest[position..].IndexOf((byte)'\n');
            if (lf < 0)
            {
                // Note: the header runs past what we read; not a trace header we wrote.
                return false;
            }
            position += lf + 1;
            if (position >= rest.Length || (rest[position] != (byte)' ' && rest[position] != (byte)'\t'))
            {
                break;
            }
        }
        end = offset + position;
        value = rest[name.Length..position];
        return true;
    }

    private static string? AngleAddress(ReadOnlySpan<byte> value)
    {
        int open = value.IndexOf((byte)'<');
        int close = value.LastIndexOf((byte)'>');
        return open < 0 || close < open ? null : Encoding.UTF8.GetString(value[(open + 1)..close]);
    }
}
