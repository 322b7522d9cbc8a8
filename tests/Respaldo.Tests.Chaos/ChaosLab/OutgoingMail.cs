using System.Globalization;
using System.Text;
using Respaldo.Tests.Corpus;

namespace Respaldo.Tests.ChaosLab;

/// <summary>A message to send to the backup: its envelope (as bytes, as the corpus needs) and how to make its content.</summary>
public sealed record OutgoingMail(
    string Name,
    byte[] Sender,
    IReadOnlyList<string> Recipients,
    string Parameters,
    long Size,
    Func<byte[]> Content,
    CorpusEntry? Corpus = null)
{
    public string SenderText => Encoding.UTF8.GetString(Sender);

    public IEnumerable<CopyKey> Keys => Recipients.Select(r => new CopyKey(SenderText, r));

    public IReadOnlyList<byte[]> RecipientBytes => Recipients.Select(Encoding.UTF8.GetBytes).ToList();
}

/// <summary>
/// The messages of a chaos run, all derived from the seed: sizes from 1 KB to 5 MB (90 % up to
/// 20 KB, 8 % up to 500 KB, 2 % up to 5 MB, and one each of exactly 1,024 and 5,000,000
/// octets), plain text of 76-column lines, some 8-bit, some lines starting with a dot (SMTP
/// transparency through the proxy and the hand-over), every 37th message for two or three
/// recipients. Each has its own envelope sender, chaos.RUN.N@example.org, which identifies its
/// copies at either end.
/// </summary>
public static class ChaosMail
{
    public static readonly string[] Mailboxes = ["info@suempresa.test", "ventas@suempresa.test", "juan@norte.suempresa.test"];

    public const int MinSize = 1024;
    public const int MaxSize = 5_000_000;

    public static List<OutgoingMail> Generate(int seed, string run, int count)
    {
        var random = new Random(seed);
        var list = new List<OutgoingMail>(count);
        for (int i = 0; i < count; i++)
        {
            double u = random.NextDouble();
            int size = i switch
            {
                0 => MinSize,
                1 => MaxSize,
                _ => u < 0.90 ? random.Next(MinSize, 20_000) : u < 0.98 ? random.Next(20_000, 500_000) : random.Next(500_000, MaxSize + 1),
            };
            List<string> to = i % 37 == 36
                ? [.. Mailboxes.Take(2 + (i % 2))]
                : [Mailboxes[random.Next(Mailboxes.Length)]];
            int contentSeed = random.Next();
            bool eightBit = random.NextDouble() < 0.1;
            string name = string.Create(CultureInfo.InvariantCulture, $"chaos-{i}");
            string sender = string.Create(CultureInfo.InvariantCulture, $"chaos.{run}.{i}@example.org");
            int index = i;
            list.Add(new OutgoingMail(name, Encoding.ASCII.GetBytes(sender), to, eightBit ? " BODY=8BITMIME" : "", size,
                () => Content(run, index, to, size, contentSeed, eightBit)));
        }
        return list;
    }

    /// <summary>Exactly <paramref name="size"/> octets of a well-formed message (CRLF lines under 998 octets).</summary>
    public static byte[] Content(string run, int index, IReadOnlyList<string> to, int size, int seed, bool eightBit)
    {
        var random = new Random(seed);
        byte[] head = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"From: Caos <chaos@example.org>\r\nTo: {string.Join(", ", to)}\r\nSubject: chaos {run} {index}\r\n" +
            $"Message-ID: <chaos.{run}.{index}@example.org>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n" +
            $"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: {(eightBit ? "8bit" : "7bit")}\r\n\r\n"));
        byte[] message = new byte[Math.Max(size, head.Length + 3)];
        head.CopyTo(message, 0);
        ReadOnlySpan<byte> letters = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 .,;:-"u8;
        int i = head.Length;
        while (message.Length - i >= 3)
        {
            int room = message.Length - i - 2;
            int length = room <= 76 ? room : room - 76 is 1 or 2 ? 70 : 76;
            int start = i;
            for (int c = 0; c < length; c++)
            {
                message[i++] = letters[random.Next(letters.Length)];
            }
            if (length >= 2 && random.Next(20) == 0)
            {
                message[start] = (byte)'.';
            }
            if (eightBit && length >= 2 && random.Next(4) == 0)
            {
                // "ñ" in UTF-8, inside the line.
                message[start + length - 2] = 0xC3;
                message[start + length - 1] = 0xB1;
            }
            message[i++] = (byte)'\r';
            message[i++] = (byte)'\n';
        }
        return message;
    }

    /// <summary>A corpus entry as a chaos message: the run's sender replaces the default one.</summary>
    public static OutgoingMail FromCorpus(CorpusEntry entry, string run) =>
        new(entry.Name, entry.Envelope.SenderBytes(run), entry.Envelope.Recipients, entry.Envelope.MailParameters, -1, entry.Content, entry);
}
