using System.Globalization;

namespace Respaldo.Smtp;

/// <summary>What the server's EHLO reply offers (RFC 5321 §4.1.1.1 and the extensions we use).</summary>
public sealed record SmtpCapabilities(
    bool Extended,
    bool Pipelining,
    bool EightBitMime,
    bool SmtpUtf8,
    bool StartTls,
    bool Chunking,
    bool Size,
    long? MaxSize)
{
    public static SmtpCapabilities None { get; } = new(false, false, false, false, false, false, false, null);

    /// <summary>Parses a 250 EHLO reply; the first line is the greeting, the rest keywords.</summary>
    public static SmtpCapabilities FromEhlo(SmtpReply reply)
    {
        bool pipelining = false, eightBit = false, utf8 = false, startTls = false, chunking = false, sizeKeyword = false;
        long? size = null;
        foreach (string raw in reply.Text.Split('\n').Skip(1))
        {
            string line = raw.Length > 4 ? raw[4..].Trim() : "";
            string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0)
            {
                continue;
            }
            switch (words[0].ToUpperInvariant())
            {
                case "PIPELINING": pipelining = true; break;
                case "8BITMIME": eightBit = true; break;
                case "SMTPUTF8": utf8 = true; break;
                case "STARTTLS": startTls = true; break;
                case "CHUNKING": chunking = true; break;
                case "SIZE":
                    sizeKeyword = true;
                    // Note: "SIZE" alone or "SIZE 0" means no fixed limit (RFC 1870 §4).
                    size = words.Length > 1 && long.TryParse(words[1], NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n > 0 ? n : null;
                    break;
            }
        }
        return new SmtpCapabilities(true, pipelining, eightBit, utf8, startTls, chunking, sizeKeyword, size);
    }
}
