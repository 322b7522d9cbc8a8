using System.Text;

namespace Respaldo.Tests.Corpus;

/// <summary>
/// The corpus messages too big to commit, made the same way every time (fixed content, fixed
/// pseudo-random seeds): the manifest names them "generate:NAME".
/// </summary>
public static class CorpusGenerator
{
    public const int MaxMessageBytes = 49 * 1024 * 1024;

    public static byte[] Generate(string name) => name switch
    {
        "header-block-1mb" => HeaderBlock(),
        "header-line-1mb" => HeaderLine(),
        "line-100000" => LongLine(),
        "one-huge-line" => OneHugeLine(),
        "multipart-2000" => Multipart(2000),
        "mime-depth-200" => Nested(200),
        "size-49mib" => Big(MaxMessageBytes),
        _ => throw new ArgumentException($"no generator for '{name}'", nameof(name)),
    };

    private static StringBuilder Head(string name, string subject, string extra = "") =>
        new StringBuilder()
            .Append("From: Remitente <remitente@example.org>\r\nTo: info@suempresa.test\r\n")
            .Append("Subject: ").Append(subject).Append("\r\n")
            .Append("Date: Fri, 27 Nov 2026 10:00:00 +0000\r\nMessage-ID: <corpus.").Append(name).Append("@example.org>\r\n")
            .Append(extra);

    /// <summary>About 1 MB of ordinary header fields: 11,000 lines of 96 octets.</summary>
    private static byte[] HeaderBlock()
    {
        StringBuilder b = Head("header-block-1mb", "a header block of 1 MB");
        for (int i = 0; i < 11_000; i++)
        {
            b.Append("X-Filler-").Append(i.ToString("D5", System.Globalization.CultureInfo.InvariantCulture)).Append(": ").Append('f', 80).Append("\r\n");
        }
        return Encoding.ASCII.GetBytes(b.Append("\r\nbody after 1 MB of headers\r\n").ToString());
    }

    /// <summary>One header field of 1 MiB on one line, ten times Postfix's header_size_limit.</summary>
    private static byte[] HeaderLine() =>
        Encoding.ASCII.GetBytes(Head("header-line-1mb", "one header line of 1 MiB").Append("X-Huge: ").Append('h', 1024 * 1024).Append("\r\n\r\nbody\r\n").ToString());

    private static byte[] LongLine() =>
        Encoding.ASCII.GetBytes(Head("line-100000", "a body line of 100,000 octets").Append("\r\n").Append('z', 100_000).Append("\r\nend\r\n").ToString());

    /// <summary>No header, no line end: 1,000,000 octets on one line.</summary>
    private static byte[] OneHugeLine()
    {
        byte[] b = new byte[1_000_000];
        for (int i = 0; i < b.Length; i++)
        {
            b[i] = (byte)('a' + (i % 26));
        }
        return b;
    }

    private static byte[] Multipart(int parts)
    {
        StringBuilder b = Head("multipart-2000", "2,000 MIME parts", "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"part\"\r\n").Append("\r\n");
        for (int i = 0; i < parts; i++)
        {
            b.Append("--part\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\npart ").Append(i.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append("\r\n");
        }
        return Encoding.ASCII.GetBytes(b.Append("--part--\r\n").ToString());
    }

    /// <summary>multipart/mixed inside multipart/mixed, <paramref name="depth"/> levels (Postfix's mime_nesting_limit is 100).</summary>
    private static byte[] Nested(int depth)
    {
        StringBuilder b = Head("mime-depth-200", "MIME nested 200 deep", "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n").Append("\r\n");
        for (int i = 1; i < depth; i++)
        {
            b.Append("--b").Append(i - 1).Append("\r\nContent-Type: multipart/mixed; boundary=\"b").Append(i).Append("\"\r\n\r\n");
        }
        b.Append("--b").Append(depth - 1).Append("\r\nContent-Type: text/plain\r\n\r\nthe innermost part\r\n--b").Append(depth - 1).Append("--\r\n");
        for (int i = depth - 2; i >= 0; i--)
        {
            b.Append("--b").Append(i).Append("--\r\n");
        }
        return Encoding.ASCII.GetBytes(b.ToString());
    }

    /// <summary>A base64 attachment padding the message to exactly <paramref name="total"/> octets.</summary>
    private static byte[] Big(int total)
    {
        byte[] head = Encoding.ASCII.GetBytes(Head("size-49mib", "49 MiB, just under the default messageSizeLimit (50 MiB)",
            "MIME-Version: 1.0\r\nContent-Type: application/octet-stream; name=\"big.bin\"\r\nContent-Transfer-Encoding: base64\r\n").Append("\r\n").ToString());
        byte[] message = new byte[total];
        head.CopyTo(message, 0);
        var random = new Random(49);
        ReadOnlySpan<byte> alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"u8;
        int i = head.Length;
        while (total - i >= 3)
        {
            int room = total - i - 2;
            // Note: never leave one or two octets over (they could not form a CRLF-ended line).
            int length = room <= 76 ? room : room - 76 is 1 or 2 ? 70 : 76;
            for (int c = 0; c < length; c++)
            {
                message[i++] = alphabet[random.Next(64)];
            }
            message[i++] = (byte)'\r';
            message[i++] = (byte)'\n';
        }
        return message;
    }
}
