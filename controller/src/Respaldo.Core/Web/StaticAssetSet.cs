using System.Collections.Frozen;
using System.Reflection;

namespace Respaldo.Web;

/// <summary>One file served under /static/: its bytes and content type.</summary>
public sealed record StaticAsset(string Name, byte[] Bytes, string ContentType);

/// <summary>
/// The web's static files (CSS, scripts): every embedded resource of an assembly under a prefix,
/// read once at start into a fixed set. A name not in the set is simply not found.
/// </summary>
/// <remarks>
/// Note: the set is closed at start on purpose: a cache filled on demand kept an entry for every
/// name asked for, so random /static/x.css requests, without a login, grew memory without end.
/// </remarks>
public sealed class StaticAssetSet
{
    private readonly FrozenDictionary<string, StaticAsset> _assets;

    private StaticAssetSet(FrozenDictionary<string, StaticAsset> assets) => _assets = assets;

    /// <summary>Every resource named <paramref name="prefix"/>NAME with a .css or .js NAME.</summary>
    public static StaticAssetSet FromResources(Assembly assembly, string prefix)
    {
        var assets = new Dictionary<string, StaticAsset>(StringComparer.Ordinal);
        foreach (string resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            string name = resource[prefix.Length..];
            string? type = Path.GetExtension(name) switch
            {
                ".css" => "text/css; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                _ => null,
            };
            if (type is null)
            {
                continue;
            }
            using Stream s = assembly.GetManifestResourceStream(resource)!;
            using var m = new MemoryStream();
            s.CopyTo(m);
            assets[name] = new StaticAsset(name, m.ToArray(), type);
        }
        return new StaticAssetSet(assets.ToFrozenDictionary(StringComparer.Ordinal));
    }

    public StaticAsset? Find(string name) => _assets.GetValueOrDefault(name);

    /// <summary>How many assets are held (for tests: it never grows after start).</summary>
    public int Count => _assets.Count;

    public IEnumerable<string> Names => _assets.Keys;
}
