using System.Text;

namespace Respaldo.Tests.Lab;

public static class TestMessages
{
    /// <summary>A small message with a unique Message-ID, LF line ends.</summary>
    public static byte[] Plain(string subject, string to = "info@suempresa.test", string extraHeaders = "") =>
        Encoding.UTF8.GetBytes(
            $"From: Remitente <sender@example.org>\nTo: {to}\nSubject: {subject}\n" +
            $"Message-ID: <{Guid.NewGuid():N}@example.org>\nDate: Fri, 27 Nov 2026 10:00:00 +0000\n{extraHeaders}" +
            $"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nCuerpo de {subject}.\n");

    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];
}
