using System.Globalization;
using System.Text;
using Respaldo.Configuration;
using Respaldo.Supervision;
using Respaldo.Webmail;

namespace Respaldo.Daemon.Web.Webmail;

/// <summary>
/// The webmail's non-page responses: a message's HTML for the sandboxed frame, attachment
/// downloads, and each tenant's colours as a stylesheet.
/// </summary>
internal static class WebmailEndpoints
{
    /// <summary>
    /// The frame's policy: the document is sandboxed even if opened on its own (no scripts, an
    /// opaque origin, no forms); no script, font, frame or connection sources at all; styles only
    /// inline; images only as data: (inline parts) unless the reader asked for remote images.
    /// </summary>
    public static string FramePolicy(bool remoteImages) =>
        "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; style-src 'unsafe-inline'; " +
        (remoteImages ? "img-src data: https: http:; " : "img-src data:; ") +
        "frame-ancestors 'self'; base-uri 'none'; form-action 'none'";

    public static IEndpointRouteBuilder MapWebmailEndpoints(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder group = app.MapGroup(WebmailAccess.BasePath + "/m/{validity:long}/{uid:long}").RequireAuthorization(WebmailAccess.Policy);

        group.MapGet("/body", async (long validity, long uid, string? images, HttpContext context, WebmailSessions sessions, CancellationToken ct) =>
        {
            if (sessions.Touch(WebmailAccess.SessionId(context.User)) is not { } session || !Ids(validity, uid, out uint v, out uint u))
            {
                return Results.NotFound();
            }
            bool remote = images == "1";
            string? document = await session.UseAsync(async inbox =>
            {
                OpenedMessage? message = await MailboxView.OpenAsync(inbox, v, u, markSeen: false, ct);
                if (message is null)
                {
                    return null;
                }
                return session.TakeRendered(v, u, remote) ?? MessageHtml.Document(await MailboxView.RenderAsync(inbox, message, remote, ct));
            }, ct);
            if (document is null)
            {
                return Results.NotFound();
            }
            IHeaderDictionary h = context.Response.Headers;
            h.ContentSecurityPolicy = FramePolicy(remote);
            h.XFrameOptions = "SAMEORIGIN";
            h.CacheControl = "no-store";
            h["Referrer-Policy"] = "no-referrer";
            return Results.Content(document, "text/html; charset=utf-8", Encoding.UTF8);
        });

        group.MapGet("/part/{index:int}", async (long validity, long uid, int index, HttpContext context, WebmailSessions sessions, CancellationToken ct) =>
        {
            if (sessions.Touch(WebmailAccess.SessionId(context.User)) is not { } session || !Ids(validity, uid, out uint v, out uint u))
            {
                return Results.NotFound();
            }
            (OpenedMessage Message, MailKit.BodyPartBasic Part)? file = await session.UseAsync(async inbox =>
            {
                OpenedMessage? message = await MailboxView.OpenAsync(inbox, v, u, markSeen: false, ct);
                IReadOnlyList<MailKit.BodyPartBasic> parts = message is null ? [] : MailboxView.Attachments(message.Summary);
                return index < 0 || index >= parts.Count ? ((OpenedMessage, MailKit.BodyPartBasic)?)null : (message!, parts[index]);
            }, ct);
            if (file is not { } f)
            {
                return Results.NotFound();
            }
            // Note: whatever type the sender declared, the browser saves the file (attachment)
            // and must not sniff or run it; a document opened anyway is sandboxed.
            HttpResponse response = context.Response;
            response.Headers.ContentSecurityPolicy = "sandbox; default-src 'none'";
            response.Headers.CacheControl = "no-store";
            response.ContentType = f.Part.ContentType.MimeType.ToLowerInvariant();
            var disposition = new Microsoft.Net.Http.Headers.ContentDispositionHeaderValue("attachment");
            disposition.SetHttpFileName(MailboxView.FileName(f.Part, index));
            response.Headers.ContentDisposition = disposition.ToString();
            // Note: straight from Dovecot to the browser, a piece at a time (MailboxView.CopyPartAsync).
            await session.UseAsync(async inbox =>
            {
                await MailboxView.CopyPartAsync(inbox, f.Message.Id, f.Part, response.Body, ct);
                return true;
            }, ct);
            return Results.Empty;
        });

        app.MapGet(WebmailAccess.BasePath + "/brand/{tenant:regex(^[a-z0-9-]+$)}.css", (string tenant, RespaldoRuntime runtime) =>
        {
            TenantBranding brand = runtime.Settings.Tenants.FirstOrDefault(t => t.Id == tenant)?.Brand ?? TenantBranding.Default("Respaldo");
            // Note: the colours were checked as #rrggbb when the configuration was loaded.
            string css = string.Create(CultureInfo.InvariantCulture, $":root {{ --brand: {brand.PrimaryColor}; --brand-bg: {brand.BackgroundColor}; }}\n");
            return Results.Text(css, "text/css; charset=utf-8");
        }).AllowAnonymous();
        return app;
    }

    public static bool Ids(long validity, long uid, out uint v, out uint u)
    {
        bool ok = validity is > 0 and <= uint.MaxValue && uid is > 0 and <= uint.MaxValue;
        v = ok ? (uint)validity : 0;
        u = ok ? (uint)uid : 0;
        return ok;
    }
}
