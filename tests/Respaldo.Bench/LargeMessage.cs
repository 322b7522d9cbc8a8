using System.Globalization;
using System.Text;

namespace Respaldo.Bench;

/// <summary>
/// A large message as mail clients make them: a short text part and an attachment in base64
/// (76-character lines, RFC 2045 §6.8), written to a file for smtp-source -F. The attachment's
/// bytes are pseudo-random with a fixed seed, so every run sends the same message.
/// </summary>
public static class LargeMessage
{
    public static void Write(string path, long totalBytes, string from, string to)
    {
        const string boundary = "=_respaldo-bench-large";
        var random = new Random(20_251_127);
        using var output = new StreamWriter(path, append: false, new UTF8Encoding(false)) { NewLine = "\n" };
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"From: <{from}>"));
        output.WriteLine($"To: <{to}>");
        output.WriteLine("Subject: bench: a large attachment");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Date: {DateTimeOffset.UtcNow:ddd, dd MMM yyyy HH:mm:ss} +0000"));
        output.WriteLine("Message-ID: <large.bench@respaldo.test>");
        output.WriteLine("MIME-Version: 1.0");
        output.WriteLine($"Content-Type: multipart/mixed; boundary=\"{boundary}\"");
        output.WriteLine();
        output.WriteLine($"--{boundary}");
        output.WriteLine("Content-Type: text/plain; charset=us-ascii");
        output.WriteLine();
        output.WriteLine("The attachment is the benchmark's large message.");
        output.WriteLine($"--{boundary}");
        output.WriteLine("Content-Type: application/octet-stream; name=\"bench.bin\"");
        output.WriteLine("Content-Transfer-Encoding: base64");
        output.WriteLine("Content-Disposition: attachment; filename=\"bench.bin\"");
        output.WriteLine();
        output.Flush();
        // Note: 57 raw bytes make one 76-character base64 line; 77 bytes with its LF.
        byte[] raw = new byte[57];
        long written = output.BaseStream.Length;
        long tail = boundary.Length + 5;
        while (written + 77 + tail <= totalBytes)
        {
            random.NextBytes(raw);
            output.WriteLine(Convert.ToBase64String(raw));
            written += 77;
        }
        output.WriteLine($"--{boundary}--");
    }
}
