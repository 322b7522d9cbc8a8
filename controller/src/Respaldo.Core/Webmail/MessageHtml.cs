using Ganss.Xss;

namespace Respaldo.Webmail;

/// <summary>A message's HTML made safe to show, and how many remote images were left out.</summary>
public sealed record SanitizedHtml(string Body, int BlockedImages);

/// <summary>
/// Makes a message's HTML safe for the webmail's frame with HtmlSanitizer (Ganss.Xss): no
/// scripts, no event handlers, no forms, no javascript: or other unknown URL schemes, no CSS
/// expressions; remote images only when the reader asked for them; inline (cid:) images become
/// data: URLs (RFC 2397) so the sandboxed frame needs no cookie to show them.
/// </summary>
/// <remarks>
/// Note: this is one of two fences. The frame that shows the result is sandboxed (no scripts,
/// no same origin) and served with its own Content-Security-Policy (no script, images from
/// data: only unless remote images were asked for), so a sanitizer bug alone runs nothing and
/// loads nothing.
/// </remarks>
public static class MessageHtml
{
    /// <summary>The most characters of inline (data:) images one message's HTML may carry.</summary>
    public const long InlineBudget = 16L * 1024 * 1024;

    private static readonly string[] Unwanted = ["form", "input", "button", "select", "textarea", "option", "optgroup", "fieldset", "legend", "label"];

    /// <param name="html">The message's text/html part, decoded.</param>
    /// <param name="allowRemoteImages">True only after the reader pressed "show images".</param>
    /// <param name="inlineImage">Turns a Content-ID into a data: URL, or null when there is no such part.</param>
    public static SanitizedHtml Sanitize(string html, bool allowRemoteImages, Func<string, string?>? inlineImage = null)
    {
        var sanitizer = new HtmlSanitizer();
        foreach (string tag in Unwanted)
        {
            sanitizer.AllowedTags.Remove(tag);
        }
        sanitizer.AllowedSchemes.Clear();
        sanitizer.AllowedSchemes.Add("http");
        sanitizer.AllowedSchemes.Add("https");
        sanitizer.AllowedSchemes.Add("mailto");
        sanitizer.AllowedSchemes.Add("cid");
        sanitizer.AllowDataAttributes = false;
        sanitizer.AllowedTags.Remove("area");
        sanitizer.AllowedTags.Remove("map");
        sanitizer.AllowedAttributes.Remove("target");
        sanitizer.AllowedAttributes.Remove("rel");
        sanitizer.AllowedAttributes.Remove("usemap");
        int blocked = 0;
        // Note: each cid: reference is resolved once, and all inlined data: URLs together stay
        // under InlineBudget characters: 10,000 references to one 2 MiB image must not become
        // 10,000 copies of it (one hostile message could exhaust the daemon's memory).
        var inlined = new Dictionary<string, string?>(StringComparer.Ordinal);
        long inlineSpent = 0;
        string? Inline(string contentId)
        {
            if (!inlined.TryGetValue(contentId, out string? url))
            {
                url = inlineImage?.Invoke(contentId);
                inlined[contentId] = url;
            }
            if (url is null || inlineSpent + url.Length > InlineBudget)
            {
                return null;
            }
            inlineSpent += url.Length;
            return url;
        }
        sanitizer.FilterUrl += (_, e) =>
        {
            if (e.SanitizedUrl is not { } url)
            {
                return;
            }
            bool isLink = e.Tag.LocalName is "a" or "area";
            string scheme = Scheme(url);
            if (scheme == "cid")
            {
                // Note: RFC 2392: "cid:" names a part of this same message by its Content-ID.
                e.SanitizedUrl = isLink ? null : Inline(Uri.UnescapeDataString(url[4..]));
            }
            else if (scheme is "http" or "https" && !isLink && !allowRemoteImages)
            {
                blocked++;
                e.SanitizedUrl = null;
            }
        };
        sanitizer.PostProcessNode += (_, e) =>
        {
            if (e.Node is AngleSharp.Dom.IElement { LocalName: "a" } a && a.HasAttribute("href"))
            {
                // Note: links open in a new window, outside the frame, and tell nothing about us.
                a.SetAttribute("target", "_blank");
                a.SetAttribute("rel", "noopener noreferrer");
            }
        };
        string body = sanitizer.Sanitize(html);
        if (!allowRemoteImages)
        {
            // Note: url() inside CSS is checked against AllowedSchemes, not FilterUrl: with remote
            // images off, a style declaration naming a URL goes (the frame's CSP blocks it anyway).
            body = RemoveCssUrls(body, ref blocked);
        }
        return new SanitizedHtml(body, blocked);
    }

    /// <summary>A complete document for the frame: UTF-8, the sanitized body, nothing from the message's head.</summary>
    public static string Document(SanitizedHtml html) =>
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\"></head>\n<body>" + html.Body + "</body></html>\n";

    private static string Scheme(string url)
    {
        int colon = url.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && url.AsSpan(0, colon).IndexOfAny('/', '?', '#') < 0 ? url[..colon].Trim().ToLowerInvariant() : "";
    }

    private static string RemoveCssUrls(string body, ref int blocked)
    {
        if (!body.Contains("url(", StringComparison.OrdinalIgnoreCase))
        {
            return body;
        }
        var parser = new AngleSharp.Html.Parser.HtmlParser();
        using AngleSharp.Html.Dom.IHtmlDocument doc = parser.ParseDocument("<body>" + body + "</body>");
        foreach (AngleSharp.Dom.IElement element in doc.Body!.QuerySelectorAll("[style]"))
        {
            string style = element.GetAttribute("style") ?? "";
            if (style.Contains("url(", StringComparison.OrdinalIgnoreCase))
            {
                var kept = style.Split(';').Where(d => !d.Contains("url(", StringComparison.OrdinalIgnoreCase)).ToList();
                blocked++;
                element.SetAttribute("style", string.Join(';', kept));
            }
        }
        return doc.Body.InnerHtml;
    }
}
