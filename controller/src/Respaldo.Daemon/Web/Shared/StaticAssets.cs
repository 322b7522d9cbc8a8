using System.Collections.Concurrent;
using System.Reflection;

namespace Respaldo.Daemon.Web.Shared;

/// <summary>
/// The stylesheet and the small live-update script, served from resources inside the binary
/// under /static/ (no CDN, no font downloads, nothing to find on disk), cacheable for an hour.
/// </summary>
internal static class StaticAssets
{
    private static readonly ConcurrentDictionary<string, byte[]?> Cache = new(StringComparer.Ordinal);

    public static IEndpointRouteBuilder MapStaticAssets(this IEndpointRouteBuilder app)
    {
        app.MapGet("/static/{name:regex(^[a-z0-9-]+\\.(css|js)$)}", (string name, HttpContext context) =>
        {
            byte[]? bytes = Cache.GetOrAdd(name, n =>
            {
                using Stream? s = Assembly.GetExecutingAssembly().GetManifestResourceStream("static/" + n);
                if (s is null)
                {
                    return null;
                }
                using var m = new MemoryStream();
                s.CopyTo(m);
                return m.ToArray();
            });
            if (bytes is null)
            {
                return Results.NotFound();
            }
            context.Response.Headers.CacheControl = "public, max-age=3600";
            return Results.Bytes(bytes, name.EndsWith(".css", StringComparison.Ordinal) ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8");
        }).AllowAnonymous();
        return app;
    }
}
