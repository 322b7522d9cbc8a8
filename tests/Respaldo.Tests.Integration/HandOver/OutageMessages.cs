using System.Security.Cryptography;
using MimeKit;
using MimeKit.Cryptography;

namespace Respaldo.Tests.HandOver;

/// <summary>A message as the Internet would send it: envelope, recipients and the bytes.</summary>
public sealed record OutgoingMessage(string Name, string Sender, IReadOnlyList<string> Recipients, byte[] Content, string MessageId, bool DkimSigned);

/// <summary>
/// The outage test's mail: plain, 8-bit, long lines, a Bcc recipient, a 10 MB attachment,
/// DKIM-signed (relaxed and simple canonicalization), null senders, and several recipients
/// at "*." subdomains. Each has a unique Message-ID so copies can be matched anywhere.
/// </summary>
public static class OutageMessages
{
    public const string Selector = "respaldo-test";
    public const string SigningDomain = "example.org";

    public static RSA Key { get; } = RSA.Create(2048);

    public static List<OutgoingMessage> Create(string run)
    {
        string[] all = ["info@suempresa.test", "ventas@suempresa.test", "juan@norte.suempresa.test"];
        var list = new List<OutgoingMessage>();
        int n = 0;
        OutgoingMessage Add(string name, string sender, string[] rcpts, Func<string, MimeMessage> build, bool sign = false, DkimCanonicalizationAlgorithm canon = DkimCanonicalizationAlgorithm.Relaxed)
        {
            string id = $"{run}.{++n}.{name}@example.org";
            MimeMessage m = build(id);
            m.MessageId = id;
            if (sign)
            {
                var signer = new DkimSigner(Org.BouncyCastle.Security.DotNetUtilities.GetRsaKeyPair(Key).Private, SigningDomain, Selector)
                {
                    HeaderCanonicalizationAlgorithm = canon,
                    BodyCanonicalizationAlgorithm = canon,
                    AgentOrUserIdentifier = "@example.org",
                };
                m.Prepare(EncodingConstraint.SevenBit);
                signer.Sign(m, [HeaderId.From, HeaderId.To, HeaderId.Subject, HeaderId.Date, HeaderId.MessageId]);
            }
            using var stream = new MemoryStream();
            m.WriteTo(FormatOptions.Default, stream);
            var o = new OutgoingMessage(name, sender, rcpts, stream.ToArray(), id, sign);
            list.Add(o);
            return o;
        }
        MimeMessage Text(string to, string subject, string body, string charset = "utf-8", ContentEncoding encoding = ContentEncoding.SevenBit)
        {
            var m = new MimeMessage();
            m.From.Add(new MailboxAddress("Remitente", "remitente@example.org"));
            m.To.Add(MailboxAddress.Parse(to));
            m.Subject = subject;
            m.Date = new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);
            var part = new TextPart("plain") { Text = body, ContentTransferEncoding = encoding };
            part.ContentType.Charset = charset;
            m.Body = part;
            return m;
        }

        for (int i = 0; i < 26; i++)
        {
            string to = all[i % 3];
            Add("plain", "remitente@example.org", [to], _ => Text(to, $"Pedido {i}", string.Concat(Enumerable.Repeat($"Línea de pedido {i} sin acentos.\n", 5 + (i * 7)))));
        }
        for (int i = 0; i < 5; i++)
        {
            Add("8bit", "remitente@example.org", [all[i % 3]], _ => Text(all[i % 3], $"Acentos {i}", $"Año, señal, pingüino, ÑANDÚ {i}.\nSegunda línea con € y ß.\n", encoding: ContentEncoding.EightBit));
        }
        for (int i = 0; i < 3; i++)
        {
            Add("longline", "remitente@example.org", [all[i % 3]], _ => Text(all[i % 3], $"Línea larga {i}", new string('x', 1500 + (i * 500)) + "\nfin\n"));
        }
        Add("bcc", "remitente@example.org", ["info@suempresa.test", "juan@norte.suempresa.test"], _ => Text("info@suempresa.test", "Juan en copia oculta", "Solo info en To:, juan en el sobre.\n"));
        Add("attachment", "remitente@example.org", ["ventas@suempresa.test"], _ =>
        {
            var m = Text("ventas@suempresa.test", "Catálogo adjunto", "Adjunto el catálogo.\n");
            var bytes = new byte[10 * 1024 * 1024];
            new Random(42).NextBytes(bytes);
            var attachment = new MimePart("application", "octet-stream")
            {
                Content = new MimeContent(new MemoryStream(bytes)),
                ContentDisposition = new ContentDisposition(ContentDisposition.Attachment),
                ContentTransferEncoding = ContentEncoding.Base64,
                FileName = "catalogo.bin",
            };
            m.Body = new Multipart("mixed") { m.Body!, attachment };
            return m;
        });
        for (int i = 0; i < 2; i++)
        {
            Add("dkim-relaxed", "remitente@example.org", [all[i]], _ => Text(all[i], $"Firmado {i}", "Mensaje firmado con DKIM, relaxed.\n"), sign: true);
        }
        Add("dkim-simple", "remitente@example.org", ["juan@norte.suempresa.test"], _ => Text("juan@norte.suempresa.test", "Firmado simple", "Firmado con DKIM, simple/simple.\nÚltima línea.\n", encoding: ContentEncoding.EightBit), sign: true, canon: DkimCanonicalizationAlgorithm.Simple);
        for (int i = 0; i < 2; i++)
        {
            Add("bounce", "", [all[i]], _ => Text(all[i], $"Undelivered Mail Returned to Sender {i}", "This is the mail system at host example.org.\n"));
        }
        for (int i = 0; i < 9; i++)
        {
            Add("multi", "remitente@example.org", all, _ =>
            {
                MimeMessage m = Text("info@suempresa.test", $"Para todos {i}", $"Varios destinatarios, subdominio incluido ({i}).\n");
                m.To.Add(MailboxAddress.Parse("ventas@suempresa.test"));
                m.Cc.Add(MailboxAddress.Parse("juan@norte.suempresa.test"));
                return m;
            });
        }
        return list;
    }

    /// <summary>Finds the test's public key for DKIM verification (no DNS here).</summary>
    public sealed class KeyLocator : IDkimPublicKeyLocator
    {
        public Org.BouncyCastle.Crypto.AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            Org.BouncyCastle.Security.DotNetUtilities.GetRsaPublicKey(Key);

        public Task<Org.BouncyCastle.Crypto.AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            Task.FromResult(LocatePublicKey(methods, domain, selector, cancellationToken));
    }
}
