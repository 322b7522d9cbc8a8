using Respaldo.Webmail;

namespace Respaldo.Tests.Webmail;

public sealed class MessageHtmlTests
{
    private static string Clean(string html, bool remote = false) => MessageHtml.Sanitize(html, remote).Body;

    [Theory]
    [InlineData("<p>a</p><script>alert(1)</script>")]
    [InlineData("<p onclick=\"alert(1)\">a</p>")]
    [InlineData("<img src=x onerror=alert(1)>")]
    [InlineData("<body onload=alert(1)><p>a</p></body>")]
    [InlineData("<svg><script>alert(1)</script></svg>")]
    [InlineData("<svg onload=alert(1)></svg>")]
    [InlineData("<iframe src=\"https://evil.test/\"></iframe>")]
    [InlineData("<object data=\"x.swf\"></object><embed src=\"x.swf\">")]
    [InlineData("<meta http-equiv=\"refresh\" content=\"0;url=https://evil.test/\">")]
    [InlineData("<base href=\"https://evil.test/\">")]
    [InlineData("<link rel=stylesheet href=\"https://evil.test/x.css\">")]
    [InlineData("<style>@import url(https://evil.test/x.css)</style>")]
    [InlineData("<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>")]
    public void RemovesEverythingThatRunsOrLoads(string html)
    {
        string clean = Clean(html).ToLowerInvariant();
        foreach (string bad in new[] { "<script", "onclick", "onerror", "onload", "<iframe", "<object", "<embed", "<meta", "<base", "<link", "<style", "javascript:", "evil.test", "<svg" })
        {
            Assert.DoesNotContain(bad, clean);
        }
    }

    [Theory]
    [InlineData("<a href=\"javascript:alert(1)\">x</a>")]
    [InlineData("<a href=\"JaVaScRiPt:alert(1)\">x</a>")]
    [InlineData("<a href=\"java&#x09;script:alert(1)\">x</a>")]
    [InlineData("<a href=\"vbscript:msgbox(1)\">x</a>")]
    [InlineData("<a href=\"data:text/html,<script>alert(1)</script>\">x</a>")]
    public void LinksKeepOnlyWebAndMailSchemes(string html)
    {
        string clean = Clean(html).ToLowerInvariant();
        Assert.DoesNotContain("script", clean.Replace("<script", ""));
        Assert.DoesNotContain("href=\"data:", clean);
        Assert.DoesNotContain("href=\"vbscript:", clean);
    }

    [Fact]
    public void DropsCssExpressionsAndBehaviours()
    {
        string clean = Clean("<div style=\"width: expression(alert(1)); color: red; behavior: url(x.htc); -moz-binding: url(x.xml)\">a</div>").ToLowerInvariant();
        Assert.DoesNotContain("expression", clean);
        Assert.DoesNotContain("behavior", clean);
        Assert.DoesNotContain("binding", clean);
        Assert.Contains("color: rgba(255, 0, 0, 1)", clean);
    }

    [Fact]
    public void BlocksRemoteImagesUntilAsked()
    {
        const string html = "<p>hi</p><img src=\"https://tracker.test/p.gif\"><div style=\"background: url(https://tracker.test/b.png)\">x</div>";
        SanitizedHtml blocked = MessageHtml.Sanitize(html, allowRemoteImages: false);
        Assert.DoesNotContain("tracker.test", blocked.Body);
        Assert.Equal(2, blocked.BlockedImages);
        SanitizedHtml shown = MessageHtml.Sanitize(html, allowRemoteImages: true);
        Assert.Contains("https://tracker.test/p.gif", shown.Body);
        Assert.Equal(0, shown.BlockedImages);
    }

    [Fact]
    public void LinksOpenOutsideTheFrameWithoutReferrer()
    {
        string clean = Clean("<a href=\"https://www.example.org/\">web</a><a href=\"mailto:ana@example.org\">ana</a>");
        Assert.Contains("href=\"https://www.example.org/\"", clean);
        Assert.Contains("href=\"mailto:ana@example.org\"", clean);
        Assert.Contains("target=\"_blank\"", clean);
        Assert.Contains("rel=\"noopener noreferrer\"", clean);
    }

    [Fact]
    public void InlineImagesBecomeDataUrlsAndUnknownOnesGo()
    {
        const string data = "data:image/png;base64,iVBORw0KGgo=";
        SanitizedHtml clean = MessageHtml.Sanitize("<img src=\"cid:logo@x\"><img src=\"cid:missing@x\">", false, cid => cid == "logo@x" ? data : null);
        Assert.Contains($"src=\"{data}\"", clean.Body);
        Assert.DoesNotContain("cid:", clean.Body);
    }

    [Fact]
    public void AMessagesOwnDataUrlsDoNotSurvive()
    {
        string clean = Clean("<img src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\">");
        Assert.DoesNotContain("data:", clean);
    }

    [Fact]
    public void TheFrameDocumentHasOnlyTheSanitizedBody()
    {
        string doc = MessageHtml.Document(new SanitizedHtml("<p>x</p>", 0));
        Assert.StartsWith("<!DOCTYPE html>", doc);
        Assert.Contains("<meta charset=\"utf-8\">", doc);
        Assert.Contains("<body><p>x</p></body>", doc);
    }

    [Fact]
    public void SurvivesDeeplyNestedAndBrokenMarkup()
    {
        string deep = string.Concat(Enumerable.Repeat("<div>", 5000)) + "x" + string.Concat(Enumerable.Repeat("</div>", 10));
        string clean = Clean(deep + "<p <script>alert(1)</script> <<img src=x onerror=alert(1)//");
        Assert.DoesNotContain("<script", clean);
        Assert.DoesNotContain("onerror", clean);
    }

    [Fact]
    public void ManyReferencesToOneInlineImageCostOneDecodeAndStayUnderTheBudget()
    {
        string image = "data:image/png;base64," + new string('A', 2 * 1024 * 1024);
        int decoded = 0;
        string html = string.Concat(Enumerable.Repeat("<img src=\"cid:a\">", 10_000));
        SanitizedHtml result = MessageHtml.Sanitize(html, allowRemoteImages: false, id => { decoded++; return id == "a" ? image : null; });
        Assert.Equal(1, decoded);
        Assert.True(result.Body.Length <= MessageHtml.InlineBudget + 10_000 * 32, $"{result.Body.Length} characters");
        Assert.Contains(image, result.Body, StringComparison.Ordinal);
    }

    [Fact]
    public void ImageMapLinksAndTheSendersTargetAndRelAreRemoved()
    {
        string clean = Clean("<img src=\"cid:x\" usemap=\"#m\"><map name=\"m\"><area href=\"https://evil.test/\" target=\"_blank\" rel=\"opener\"></map>" +
            "<a href=\"https://example.org/\" target=\"_self\" rel=\"opener\">x</a>").ToLowerInvariant();
        Assert.DoesNotContain("<area", clean);
        Assert.DoesNotContain("evil.test", clean);
        Assert.DoesNotContain("opener\"", clean.Replace("noopener", "", StringComparison.Ordinal));
        Assert.Contains("target=\"_blank\"", clean);
        Assert.Contains("rel=\"noopener noreferrer\"", clean);
    }
}
