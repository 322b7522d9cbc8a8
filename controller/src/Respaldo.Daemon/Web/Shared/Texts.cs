using System.Globalization;
using Microsoft.AspNetCore.Html;

namespace Respaldo.Daemon.Web.Shared;

/// <summary>A set of translations: English text → Spanish text. Each web area registers its own.</summary>
public interface ITextSource
{
    IReadOnlyDictionary<string, string> Spanish { get; }
}

/// <summary>
/// The page's language: Spanish or English, chosen by RequestLocalization (the language cookie
/// set by the switch, else Accept-Language). Texts are written in English in the views and
/// looked up here; a text without a translation shows in English.
/// </summary>
public sealed class Texts(IEnumerable<ITextSource> sources)
{
    public static readonly string[] Languages = ["es", "en"];

    private readonly Dictionary<string, string> _spanish = sources
        .SelectMany(s => s.Spanish)
        .GroupBy(p => p.Key, StringComparer.Ordinal)
        .ToDictionary(g => g.Key, g => g.First().Value, StringComparer.Ordinal);

    public static string Language => CultureInfo.CurrentUICulture.TwoLetterISOLanguageName == "es" ? "es" : "en";

    public string this[string english] => Language == "es" && _spanish.TryGetValue(english, out string? es) ? es : english;

    /// <summary>A translated format string with arguments (numbers formatted for the language).</summary>
    public string Format(string english, params object?[] args) => string.Format(CultureInfo.CurrentCulture, this[english], args);

    public static string Number(long n) => n.ToString("N0", CultureInfo.CurrentCulture);

    public static string When(DateTimeOffset? at) =>
        at is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC" : "—";

    public static HtmlString Empty => HtmlString.Empty;
}
