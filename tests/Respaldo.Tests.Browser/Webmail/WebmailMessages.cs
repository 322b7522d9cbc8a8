using System.Text;

namespace Respaldo.Tests.Webmail;

/// <summary>Messages for the webmail tests, as the Internet would send them (LF line ends, as smtpd stores them).</summary>
internal static class WebmailMessages
{
    /// <summary>A 1×1 PNG, for the inline (cid:) image.</summary>
    public static readonly byte[] Png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==");

    public static byte[] Plain(string subject, string from, string text) => Encoding.UTF8.GetBytes(
        $"From: Remitente <{from}>\nTo: info@suempresa.test\nSubject: {subject}\nMessage-ID: <{Guid.NewGuid():N}@example.org>\n" +
        $"Date: Fri, 27 Nov 2026 10:00:00 +0000\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{text}\n");

    /// <summary>HTML with an inline image and a binary attachment named <paramref name="fileName"/>.</summary>
    public static byte[] HtmlWithAttachment(string subject, string html, string fileName, byte[] attachment) => Encoding.UTF8.GetBytes(
        $"From: Ana <ana@example.org>\nTo: info@suempresa.test\nSubject: {subject}\nMessage-ID: <{Guid.NewGuid():N}@example.org>\n" +
        "Date: Fri, 27 Nov 2026 11:00:00 +0000\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"outer\"\n\n" +
        "--outer\nContent-Type: multipart/related; boundary=\"rel\"\n\n" +
        $"--rel\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{html}\n" +
        $"--rel\nContent-Type: image/png\nContent-ID: <logo@example.org>\nContent-Transfer-Encoding: base64\n\n{Base64(Png)}\n--rel--\n" +
        $"--outer\nContent-Type: application/octet-stream; name=\"{fileName}\"\nContent-Disposition: attachment; filename=\"{fileName}\"\n" +
        $"Content-Transfer-Encoding: base64\n\n{Base64(attachment)}\n--outer--\n");

    public static string Base64(byte[] bytes) => Convert.ToBase64String(bytes, Base64FormattingOptions.InsertLineBreaks).Replace("\r\n", "\n");

    private static string Html(string subject, string html) =>
        $"From: Atacante <evil@example.org>\nTo: info@suempresa.test\nSubject: {subject}\nMessage-ID: <{Guid.NewGuid():N}@example.org>\n" +
        $"MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n{html}\n";

    /// <summary>
    /// The HTML-attack corpus: each message tries to run script (it would say PWNED in a dialog
    /// or on the console) or to load something from outside the loopback (remote.example).
    /// </summary>
    public static IEnumerable<(string Name, byte[] Message)> Hostile(string tag)
    {
        const string Run = "alert('PWNED');console.log('PWNED')";
        var html = new Dictionary<string, string>
        {
            ["script"] = $"<p>script</p><script>{Run}</script><SCRIPT SRC=\"http://remote.example/x.js\"></SCRIPT>",
            ["handlers"] = $"<p onclick=\"{Run}\" onmouseover=\"{Run}\">handlers</p><img src=x onerror=\"{Run}\"><body onload=\"{Run}\"><details open ontoggle=\"{Run}\">",
            ["javascript-url"] = $"<a href=\"javascript:{Run}\" id=js>javascript link</a><iframe src=\"javascript:{Run}\"></iframe><form action=\"javascript:{Run}\"><button>go</button></form>",
            ["css-expression"] = $"<div style=\"width:expression({Run});background:url(javascript:{Run})\">css</div><style>body{{background:url(http://remote.example/bg.png)}}</style>",
            ["svg"] = $"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"{Run}\"><script>{Run}</script><image href=\"http://remote.example/s.png\"/></svg><p>svg</p>",
            ["meta-refresh"] = "<meta http-equiv=\"refresh\" content=\"0;url=http://remote.example/refresh\"><p>meta</p><base href=\"http://remote.example/\">",
            ["remote-images"] = "<p>remote images</p><img src=\"http://remote.example/track.gif\"><img src=\"https://remote.example/t2.gif\" srcset=\"https://remote.example/t3.gif 2x\">" +
                "<div style=\"background-image:url('http://remote.example/bg2.png')\">bg</div><link rel=stylesheet href=\"http://remote.example/x.css\"><video poster=\"http://remote.example/p.png\"></video>",
            ["embeds"] = $"<object data=\"http://remote.example/x.swf\"></object><embed src=\"http://remote.example/x.swf\"><iframe srcdoc=\"<script>{Run}</script>\"></iframe><p>embeds</p>",
        };
        foreach ((string name, string body) in html)
        {
            yield return (name, Encoding.UTF8.GetBytes(Html($"{tag} {name}", body)));
        }
        string svgFile = $"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>{Run}</script></svg>";
        yield return ("svg-attachment", Encoding.UTF8.GetBytes(
            $"From: evil@example.org\nTo: info@suempresa.test\nSubject: {tag} svg-attachment\nMIME-Version: 1.0\nContent-Type: multipart/related; boundary=b\n\n" +
            "--b\nContent-Type: text/html\n\n<p>svg inline</p><img src=\"cid:e@x\">\n" +
            $"--b\nContent-Type: image/svg+xml\nContent-ID: <e@x>\n\n{svgFile}\n--b--\n"));
        yield return ("malformed-mime", Encoding.UTF8.GetBytes(
            $"From: evil@example.org\nTo: info@suempresa.test\nSubject: {tag} malformed-mime\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"never-closed\"\n" +
            "Broken header without colon\n\n--never-closed\nContent-Type: text/html; charset=x-no-such-charset\nContent-Transfer-Encoding: base64\n\n" +
            "!!!not base64%%%\n--never-closed\nContent-Type: text/plain; charset=\"utf-8\nContent-Transfer-Encoding: quoted-printable\n\n=ZZ=\n=\n"));
        var nested = new StringBuilder();
        const int depth = 60;
        for (int i = 0; i < depth; i++)
        {
            nested.Append(System.Globalization.CultureInfo.InvariantCulture, $"--b{i}\nContent-Type: multipart/mixed; boundary=\"b{i + 1}\"\n\n");
        }
        nested.Append(System.Globalization.CultureInfo.InvariantCulture, $"--b{depth}\nContent-Type: text/html\n\n<p>deep</p><script>{Run}</script>\n--b{depth}--\n");
        for (int i = depth - 1; i >= 0; i--)
        {
            nested.Append(System.Globalization.CultureInfo.InvariantCulture, $"--b{i}--\n");
        }
        yield return ("nested", Encoding.UTF8.GetBytes(
            $"From: evil@example.org\nTo: info@suempresa.test\nSubject: {tag} nested\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b0\"\n\n{nested}"));
        string longValue = string.Join("\n ", Enumerable.Range(0, 800).Select(i => $"word{i}-<script>{Run}</script>"));
        string many = string.Concat(Enumerable.Range(0, 500).Select(i => $"X-Filler-{i}: <img src=http://remote.example/{i}.png onerror=alert(1)>\n"));
        yield return ("huge-headers", Encoding.UTF8.GetBytes(
            $"From: evil@example.org\nTo: info@suempresa.test\nSubject: {tag} huge-headers\nX-Long: {longValue}\n{many}MIME-Version: 1.0\nContent-Type: text/plain\n\nhuge headers\n"));
    }
}
