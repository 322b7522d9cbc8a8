using System.Reflection;
using Respaldo.Web;

namespace Respaldo.Daemon.Web.Shared;

/// <summary>
/// The stylesheet and the small live-update script, served from resources inside the binary
/// under /static/ (no CDN, no font downloads, nothing to find on disk), cacheable for an hour.
/// The set is read once at start (<see cref="StaticAssetSet"/>); other names are 404, remembered nowhere.
/// </summary>
internal static class StaticAssets
{
    public static IEndpointRouteBuilder MapStaticAssets(this IEndpointRouteBuilder app)
    {
        StaticAssetSet assets = StaticAssetSet.FromResources(Assembly.GetExecutingAssembly(), "static/");
        app.MapGet("/static/{name:regex(^[a-z0-9-]+\\.(css|js)$)}", (string name, HttpContext context) =>
        {
            if (assets.Find(name) is not { } asset)
            {
                return Results.NotFound();
            }
            context.Response.Headers.CacheControl = "public, max-age=3600";
            return Results.Bytes(asset.Bytes, asset.ContentType);
        }).AllowAnonymous();
        return app;
    }
}
