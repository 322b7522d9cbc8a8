using System.Security.Cryptography;
using System.Text;
using MimeKit;
using MimeKit.Cryptography;

namespace Respaldo.Tests.Border;

/// <summary>Where the SMTP session gave its verdict.</summary>
public enum Stage
{
    Rcpt,
    EndOfData,
}

/// <summary>What the message looks like.</summary>
public enum BodyKind
{
    Plain,
    Gtube,
    Newsletter,
    EightBit,
    Attachment10MB,
}

/// <summary>
/// One message of the corpus: the sender's server (a source address on 127.0.0.0/8), its
/// envelope and From, whether and how it is DKIM-signed, and what the border must answer.
/// </summary>
/// <param name="Sign">The DKIM signing domain (d=), or null for an unsigned message.</param>
/// <param name="Break">The body is changed after signing (the signature no longer verifies).</param>
/// <param name="Reply">The start of the expected reply ("250 2.0.0", "554 5.7.1", ...).</param>
/// <param name="Text">What the reply text must end with (the reason tag), or null.</param>
/// <param name="Results">For an accepted message: its Authentication-Results as "dkim=X spf=Y dmarc=Z[/policy]".</param>
/// <param name="Why">Why this is the right verdict, shown when the case fails.</param>
public sealed record CorpusCase(
    string Name,
    string Source,
    string EnvelopeFrom,
    string HeaderFrom,
    string? Sign,
    bool Break,
    BodyKind Body,
    bool Pregreet,
    string Reply,
    Stage Stage,
    string? Text,
    string? Results,
    string Why)
{
    public bool Accepted => Reply.StartsWith('2');

    public bool IsSigned => Sign is not null;

    public override string ToString() => Name;
}

/// <summary>
/// The border's corpus: sender domains with their SPF, DKIM and DMARC records (zones the test
/// publishes in the lab's DNS) and the messages sent over SMTP, each with the verdict rspamd 3.4
/// and postscreen give it in the lab (tenant suempresa: reject score 15, defer 8, DNS list dnsbl.test).
/// </summary>
/// <remarks>
/// Note: rspamd finds a domain's organizational domain with the public suffix list, and ".test"
/// is not on it: for rspamd every *.test name is its own organizational domain. Relaxed
/// alignment and the subdomain policy (sp=) need a registered domain under a listed suffix, so
/// those cases use example.com, example.net and example.org (RFC 2606), which the lab's DNS
/// answers for here; nothing leaves the machine.
/// </remarks>
public static class BorderCorpus
{
    public const string Recipient = "info@suempresa.test";
    public const string Selector = "corpus";
    public const string Gtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

    /// <summary>The signed amount in every plain body; a broken signature changes it after signing.</summary>
    public const string Amount = "Importe: 100 EUR";
    public const string ForgedAmount = "Importe: 900 EUR";

    private const string Pass = "250 2.0.0";
    private const string Dmarc = "554 5.7.1";
    private const string DnsTemp = "451 4.7.1";

    /// <summary>A server outside every SPF record of the corpus.</summary>
    private const string Stranger = "127.0.0.211";

    public static IReadOnlyList<CorpusCase> Cases { get; } =
    [
        // SPF, no DKIM, no DMARC record.
        new("spf-pass", "127.0.0.11", "juan@spf-pass.test", "juan@spf-pass.test", null, false, BodyKind.Plain, false,
            Pass, Stage.EndOfData, null, "dkim=none spf=pass dmarc=none", "the server is in the domain's SPF record"),
        new("spf-fail", "127.0.0.12", "ana@spf-fail.test", "ana@spf-fail.test", null, false, BodyKind.Plain, false,
            Pass, Stage.EndOfData, null, "dkim=none spf=fail dmarc=none",
            // Note: debatable, and rspamd's choice: SPF -all without a DMARC policy is only a score
            // (R_SPF_FAIL 1 + VIOLATED_DIRECT_SPF 3.5, below the defer score 8). A forwarded message
            // fails SPF too; the domain asked for no verdict, and the primary reads spf=fail.
            "SPF -all without DMARC is only a score in rspamd (about 5 < defer 8)"),
        new("spf-softfail", "127.0.0.13", "luis@spf-softfail.test", "luis@spf-softfail.test", null, false, BodyKind.Plain, false,
            Pass, Stage.EndOfData, null, "dkim=none spf=softfail dmarc=none", "~all is a hint, not a refusal"),
        new("spf-none", "127.0.0.14", "eva@spf-none.test", "eva@spf-none.test", null, false, BodyKind.Plain, false,
            Pass, Stage.EndOfData, null, "dkim=none spf=none dmarc=none", "a domain without SPF is not judged by it"),
        new("spf-temperror", "127.0.0.15", "pablo@spf-temperror.test", "pablo@spf-temperror.test", null, false, BodyKind.Plain, false,
            DnsTemp, Stage.EndOfData, "[dnstemp]", null,
            "the SPF include points outside the lab's DNS (REFUSED): R_SPF_DNSFAIL defers, the sender retries"),
        new("unknown-domain", "127.0.0.16", "nadie@desconocido.invalid", "nadie@desconocido.invalid", null, false, BodyKind.Plain, false,
            DnsTemp, Stage.EndOfData, "[dnstemp]", null,
            "no DNS server answers for the sender's domain: a temporary failure, never a refusal"),

        // DKIM, SPF pass, no DMARC record.
        new("dkim-valid", "127.0.0.21", "facturas@firmado.test", "facturas@firmado.test", "firmado.test", false, BodyKind.Plain, false,
            Pass, Stage.EndOfData, null, "dkim=pass spf=pass dmarc=none", "a valid signature"),
        new("dkim-broken", "127.0.0.22", "facturas@firmado.test", "facturas@firmado.test", "firmado.test", true, BodyKind.Plain, false,
            Pass, Stage.EndOfData, null, "dkim=fail spf=pass dmarc=none",
            // Note: a broken signature without a DMARC policy is only a score (R_DKIM_REJECT 1): a
            // mailing list's footer breaks signatures too. The primary reads dkim=fail.
            "a broken signature without DMARC is only a score in rspamd"),
        new("dkim-missing", "127.0.0.23", "facturas@firmado.test", "facturas@firmado.test", null, false, BodyKind.Plain, false,
            Pass, Stage.EndOfData, null, "dkim=none spf=pass dmarc=none", "no signature, SPF pass"),

        // DMARC p=reject (exact domain).
        new("dmarc-reject-spf-aligned", "127.0.0.31", "cobros@dmarc-reject.test", "cobros@dmarc-reject.test", null, false, BodyKind.Plain, false,
            Pass, Stage.EndOfData, null, "dkim=none spf=pass dmarc=pass/reject", "SPF passes for the From domain itself"),
        new("dmarc-reject-dkim-aligned", "127.0.0.32", "cobros@dmarc-reject.test", "cobros@dmarc-reject.test", "dmarc-reject.test", false, BodyKind.Plain, false,
            Pass, Stage.EndOfData, null, "dkim=pass spf=fail dmarc=pass/reject", "SPF fails but an aligned DKIM signature passes DMARC"),
        new("dmarc-reject-unauthenticated", "127.0.0.33", "cobros@dmarc-reject.test", "cobros@dmarc-reject.test", null, false, BodyKind.Plain, false,
            Dmarc, Stage.EndOfData, "[dmarc]", null, "neither SPF nor DKIM: p=reject is honoured"),
        new("dmarc-reject-dkim-broken", "127.0.0.34", "cobros@dmarc-reject.test", "cobros@dmarc-reject.test", "dmarc-reject.test", true, BodyKind.Plain, false,
            Dmarc, Stage.EndOfData, "[dmarc]", null, "SPF fails and the signature is broken: p=reject is honoured"),

        // DMARC quarantine and none: verdicts for the primary, not for the border.
        new("dmarc-quarantine", "127.0.0.35", "avisos@dmarc-quarantine.test", "avisos@dmarc-quarantine.test", null, false, BodyKind.Plain, false,
            Pass, Stage.EndOfData, null, "dkim=none spf=fail dmarc=fail/quarantine",
            // Note: p=quarantine asks for delivery as suspicious mail; the backup has no spam folder,
            // so it accepts (DMARC_POLICY_QUARANTINE scores 1.5) and the primary, reading dmarc=fail
            // (policy=quarantine), files it.
            "p=quarantine means deliver as suspicious: the primary decides"),
        new("dmarc-none", "127.0.0.36", "avisos@dmarc-none.test", "avisos@dmarc-none.test", null, false, BodyKind.Plain, false,
            Pass, Stage.EndOfData, null, "dkim=none spf=fail dmarc=fail/none", "p=none asks only for reports"),

        // Relaxed alignment (example.com: p=reject; sp=none; adkim=r; aspf=r).
        new("relaxed-spf-aligned", "127.0.0.41", "rebotes@bounce.example.com", "noticias@example.com", null, false, BodyKind.Plain, false,
            Pass, Stage.EndOfData, null, "dkim=none spf=pass dmarc=pass/reject", "SPF passes for bounce.example.com, relaxed-aligned with example.com"),
        new("relaxed-dkim-aligned", "127.0.0.42", "noticias@example.com", "noticias@example.com", "mail.example.com", false, BodyKind.Plain, false,
            Pass, Stage.EndOfData, null, "dkim=pass spf=fail dmarc=pass/reject", "d=mail.example.com is relaxed-aligned with example.com"),
        new("relaxed-unauthenticated", "127.0.0.43", "noticias@example.com", "noticias@example.com", null, false, BodyKind.Plain, false,
            Dmarc, Stage.EndOfData, "[dmarc]", null, "example.com p=reject, nothing passes"),
        new("subdomain-sp-none", "127.0.0.44", "alertas@sub.example.com", "alertas@sub.example.com", null, false, BodyKind.Plain, false,
            Pass, Stage.EndOfData, null, "dkim=none spf=none dmarc=fail/none", "sub.example.com has no record of its own: example.com's sp=none applies"),

        // Strict alignment (example.net: p=reject; adkim=s; aspf=s).
        new("strict-spf-misaligned", "127.0.0.51", "rebotes@bounce.example.net", "ventas@example.net", null, false, BodyKind.Plain, false,
            Dmarc, Stage.EndOfData, "[dmarc]", null, "SPF passes for bounce.example.net, which aspf=s does not align with example.net"),
        new("strict-dkim-misaligned", "127.0.0.52", "ventas@example.net", "ventas@example.net", "mail.example.net", false, BodyKind.Plain, false,
            Dmarc, Stage.EndOfData, "[dmarc]", null, "d=mail.example.net passes but adkim=s does not align it with example.net"),
        new("strict-dkim-aligned", "127.0.0.53", "ventas@example.net", "ventas@example.net", "example.net", false, BodyKind.Plain, false,
            Pass, Stage.EndOfData, null, "dkim=pass spf=fail dmarc=pass/reject", "d=example.net is exactly the From domain"),

        // Subdomain policy (example.org: p=none; sp=reject).
        new("subdomain-sp-reject", "127.0.0.61", "alertas@sub.example.org", "alertas@sub.example.org", null, false, BodyKind.Plain, false,
            Dmarc, Stage.EndOfData, "[dmarc]", null, "sub.example.org has no record of its own: example.org's sp=reject applies"),
        new("organizational-p-none", "127.0.0.62", "alertas@example.org", "alertas@example.org", null, false, BodyKind.Plain, false,
            Pass, Stage.EndOfData, null, "dkim=none spf=fail dmarc=fail/none", "example.org itself has p=none (sp= is for its subdomains)"),

        // The client, not the message.
        new("dnsbl-listed", "127.0.0.2", "ofertas@listado.test", "ofertas@listado.test", null, false, BodyKind.Plain, false,
            "554 5.7.1", Stage.EndOfData, "[dnsbl]", null,
            // Note: postscreen's own DNS lists use the system resolver, which cannot see the lab's
            // zones, so the listing is rspamd's (the tenant's filtering.dnsbl), at the end of the data.
            "127.0.0.2 is listed in dnsbl.test (the tenant's list), whatever the message"),
        new("pregreet", "127.0.0.3", "bot@spf-pass.test", "bot@spf-pass.test", null, false, BodyKind.Plain, true,
            "550 5.5.1", Stage.Rcpt, "Protocol error", null, "the client spoke before postscreen's final greeting line"),

        // Content.
        new("gtube", "127.0.0.71", "juan@spf-pass.test", "juan@spf-pass.test", null, false, BodyKind.Gtube, false,
            "554 5.7.1", Stage.EndOfData, "Gtube pattern", null, "the GTUBE test string is always refused"),
        new("newsletter", "127.0.0.81", "rebotes@boletin.test", "noticias@boletin.test", "boletin.test", false, BodyKind.Newsletter, false,
            Pass, Stage.EndOfData, null, "dkim=pass spf=pass dmarc=pass/reject", "an ordinary signed newsletter (HTML, List-Unsubscribe)"),
        new("eight-bit", "127.0.0.82", "facturas@firmado.test", "facturas@firmado.test", "firmado.test", false, BodyKind.EightBit, false,
            Pass, Stage.EndOfData, null, "dkim=pass spf=pass dmarc=none", "an 8-bit body (BODY=8BITMIME), signed simple/simple"),
        new("attachment-10mb", "127.0.0.83", "facturas@firmado.test", "facturas@firmado.test", "firmado.test", false, BodyKind.Attachment10MB, false,
            Pass, Stage.EndOfData, null, "dkim=pass spf=pass dmarc=none", "a signed message with a 10 MB attachment"),
    ];

    public static CorpusCase Case(string name) => Cases.Single(c => c.Name == name);

    /// <summary>One RSA key per signing domain, made for this run.</summary>
    public static IReadOnlyDictionary<string, RSA> Keys { get; } =
        Cases.Where(c => c.Sign is not null).Select(c => c.Sign!).Distinct(StringComparer.Ordinal)
            .ToDictionary(d => d, _ => RSA.Create(2048), StringComparer.Ordinal);

    /// <summary>The zones the corpus needs: SPF, DKIM keys and DMARC records of every sender domain.</summary>
    public static IReadOnlyList<(string Name, string Text)> Zones()
    {
        string Key(string domain)
        {
            string p = Convert.ToBase64String(Keys[domain].ExportSubjectPublicKeyInfo());
            string value = "v=DKIM1; k=rsa; p=" + p;
            // Note: a TXT string holds at most 255 bytes (RFC 1035 §3.3); a key is split.
            IEnumerable<string> parts = value.Chunk(250).Select(ch => $"\"{new string(ch)}\"");
            return $"TXT ( {string.Join(' ', parts)} )";
        }
        return
        [
            Zone("spf-pass.test", "@ TXT \"v=spf1 ip4:127.0.0.11 ip4:127.0.0.71 -all\""),
            Zone("spf-fail.test", $"@ TXT \"v=spf1 ip4:{Stranger} -all\""),
            Zone("spf-softfail.test", $"@ TXT \"v=spf1 ip4:{Stranger} ~all\""),
            Zone("spf-none.test"),
            Zone("spf-temperror.test", "@ TXT \"v=spf1 include:_spf.outside-the-lab.invalid -all\""),
            Zone("firmado.test", "@ TXT \"v=spf1 ip4:127.0.0.21 ip4:127.0.0.22 ip4:127.0.0.23 ip4:127.0.0.82 ip4:127.0.0.83 -all\"",
                $"{Selector}._domainkey {Key("firmado.test")}"),
            Zone("dmarc-reject.test", "@ TXT \"v=spf1 ip4:127.0.0.31 -all\"", "_dmarc TXT \"v=DMARC1; p=reject\"",
                $"{Selector}._domainkey {Key("dmarc-reject.test")}"),
            Zone("dmarc-quarantine.test", $"@ TXT \"v=spf1 ip4:{Stranger} -all\"", "_dmarc TXT \"v=DMARC1; p=quarantine\""),
            Zone("dmarc-none.test", $"@ TXT \"v=spf1 ip4:{Stranger} -all\"", "_dmarc TXT \"v=DMARC1; p=none\""),
            Zone("example.com", $"@ TXT \"v=spf1 ip4:{Stranger} -all\"", "bounce TXT \"v=spf1 ip4:127.0.0.41 -all\"",
                "_dmarc TXT \"v=DMARC1; p=reject; sp=none; adkim=r; aspf=r\"",
                $"{Selector}._domainkey.mail {Key("mail.example.com")}"),
            Zone("example.net", $"@ TXT \"v=spf1 ip4:{Stranger} -all\"", "bounce TXT \"v=spf1 ip4:127.0.0.51 -all\"",
                "_dmarc TXT \"v=DMARC1; p=reject; adkim=s; aspf=s\"",
                $"{Selector}._domainkey {Key("example.net")}", $"{Selector}._domainkey.mail {Key("mail.example.net")}"),
            Zone("example.org", $"@ TXT \"v=spf1 ip4:{Stranger} -all\"", "_dmarc TXT \"v=DMARC1; p=none; sp=reject\""),
            Zone("listado.test", "@ TXT \"v=spf1 ip4:127.0.0.2 -all\""),
            Zone("boletin.test", "@ TXT \"v=spf1 ip4:127.0.0.81 -all\"", "_dmarc TXT \"v=DMARC1; p=reject\"",
                $"{Selector}._domainkey {Key("boletin.test")}"),
        ];
    }

    private static (string, string) Zone(string name, params string[] records)
    {
        var text = new StringBuilder();
        text.Append(System.Globalization.CultureInfo.InvariantCulture, $"$ORIGIN {name}.\n$TTL 60\n");
        text.Append("@ IN SOA ns.lab.test. hostmaster.lab.test. 1 60 60 600 60\n@ IN NS ns.lab.test.\n");
        foreach (string r in records)
        {
            int space = r.IndexOf(' ', StringComparison.Ordinal);
            text.Append(r[..space]).Append(" IN ").Append(r[(space + 1)..]).Append('\n');
        }
        return (name, text.ToString());
    }

    /// <summary>The message's bytes (LF line ends; the SMTP client sends CRLF).</summary>
    public static byte[] Build(CorpusCase c, string messageId)
    {
        var m = new MimeMessage();
        string fromDomain = c.HeaderFrom.Split('@')[1];
        m.From.Add(new MailboxAddress(c.Body == BodyKind.Newsletter ? "Boletín de Noticias" : "Remitente " + c.Name, c.HeaderFrom));
        m.To.Add(new MailboxAddress("Información", Recipient));
        m.Date = DateTimeOffset.UtcNow;
        m.MessageId = messageId;
        EncodingConstraint constraint = EncodingConstraint.SevenBit;
        switch (c.Body)
        {
            case BodyKind.Plain:
                m.Subject = $"Factura de noviembre ({c.Name})";
                m.Body = new TextPart("plain") { Text = $"Hola,\n\nle enviamos la factura de noviembre.\n{Amount}.\n\nUn saludo,\n{fromDomain}\n" };
                break;
            case BodyKind.Gtube:
                m.Subject = "Prueba del filtro";
                m.Body = new TextPart("plain") { Text = $"Esto es una prueba.\n\n{Gtube}\n" };
                break;
            case BodyKind.Newsletter:
                m.Subject = "Novedades de diciembre";
                m.Headers.Add("List-Id", "Noticias <noticias.boletin.test>");
                m.Headers.Add("List-Unsubscribe", "<https://boletin.test/baja?u=4711>, <mailto:baja@boletin.test?subject=baja-4711>");
                m.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
                m.Body = new MultipartAlternative
                {
                    new TextPart("plain") { Text = "Novedades de diciembre\n\nNuevo horario de la tienda: de 9 a 20 h.\n\nBaja: https://boletin.test/baja?u=4711\n" },
                    new TextPart("html")
                    {
                        Text = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Novedades</title></head><body>" +
                            "<h1>Novedades de diciembre</h1><p>Nuevo horario de la tienda: de 9 a 20 h.</p>" +
                            "<p><a href=\"https://boletin.test/horario\">Ver el horario</a></p>" +
                            "<p style=\"font-size:small\"><a href=\"https://boletin.test/baja?u=4711\">Darse de baja</a></p></body></html>\n",
                    },
                };
                break;
            case BodyKind.EightBit:
                m.Subject = "Año nuevo, señal y pingüino";
                var eight = new TextPart("plain")
                {
                    Text = $"Año nuevo: señal, pingüino, ÑANDÚ, € y ß.\n{Amount}.\nÚltima línea.\n",
                    ContentTransferEncoding = ContentEncoding.EightBit,
                };
                eight.ContentType.Charset = "utf-8";
                m.Body = eight;
                constraint = EncodingConstraint.EightBit;
                break;
            case BodyKind.Attachment10MB:
                m.Subject = "Catálogo adjunto";
                byte[] bytes = new byte[10 * 1024 * 1024];
                new Random(2026).NextBytes(bytes);
                m.Body = new Multipart("mixed")
                {
                    new TextPart("plain") { Text = $"Adjunto el catálogo.\n{Amount}.\n" },
                    new MimePart("application", "octet-stream")
                    {
                        Content = new MimeContent(new MemoryStream(bytes)),
                        ContentDisposition = new ContentDisposition(ContentDisposition.Attachment),
                        ContentTransferEncoding = ContentEncoding.Base64,
                        FileName = "catalogo.bin",
                    },
                };
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(c), c.Body, null);
        }
        m.Prepare(constraint);
        if (c.Sign is { } domain)
        {
            // Note: the 8-bit message is signed simple/simple, so any changed byte breaks it.
            DkimCanonicalizationAlgorithm canon = c.Body == BodyKind.EightBit ? DkimCanonicalizationAlgorithm.Simple : DkimCanonicalizationAlgorithm.Relaxed;
            var signer = new DkimSigner(Org.BouncyCastle.Security.DotNetUtilities.GetRsaKeyPair(Keys[domain]).Private, domain, Selector)
            {
                HeaderCanonicalizationAlgorithm = canon,
                BodyCanonicalizationAlgorithm = canon,
            };
            HeaderId[] signed = c.Body == BodyKind.Newsletter
                ? [HeaderId.From, HeaderId.To, HeaderId.Subject, HeaderId.Date, HeaderId.MessageId, HeaderId.ListId, HeaderId.ListUnsubscribe, HeaderId.ListUnsubscribePost]
                : [HeaderId.From, HeaderId.To, HeaderId.Subject, HeaderId.Date, HeaderId.MessageId];
            signer.Sign(m, signed);
        }
        using var stream = new MemoryStream();
        m.WriteTo(FormatOptions.Default, stream);
        byte[] content = stream.ToArray();
        if (c.Break)
        {
            string text = Encoding.Latin1.GetString(content);
            if (!text.Contains(Amount, StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"{c.Name}: no amount to change in the body");
            }
            content = Encoding.Latin1.GetBytes(text.Replace(Amount, ForgedAmount, StringComparison.Ordinal));
        }
        return content;
    }

    /// <summary>The test's own public keys, for MimeKit's verifier (no DNS).</summary>
    public sealed class KeyLocator : IDkimPublicKeyLocator
    {
        public Org.BouncyCastle.Crypto.AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            selector == Selector && Keys.TryGetValue(domain, out RSA? key)
                ? Org.BouncyCastle.Security.DotNetUtilities.GetRsaPublicKey(key)
                : throw new InvalidOperationException($"no test key for {selector}._domainkey.{domain}");

        public Task<Org.BouncyCastle.Crypto.AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            Task.FromResult(LocatePublicKey(methods, domain, selector, cancellationToken));
    }
}
