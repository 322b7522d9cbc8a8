using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Respaldo.Tests.Lab;

/// <summary>A browser-less dashboard client: its own cookie jar, no automatic redirects, anti-forgery tokens read from the pages.</summary>
public sealed partial class DashboardClient : IDisposable
{
    private readonly HttpClient _http;

    /// <param name="baseUrl">the daemon's web address</param>
    /// <param name="from">the local address to connect from (the lab listens on 127.0.0.1; 127.0.0.2 is another client)</param>
    /// <param name="headers">headers sent with every request (X-Forwarded-For, as a reverse proxy adds)</param>
    public DashboardClient(string baseUrl, IPAddress? from = null, IReadOnlyDictionary<string, string>? headers = null)
    {
        Cookies = new CookieContainer();
        var handler = new SocketsHttpHandler { CookieContainer = Cookies, AllowAutoRedirect = false, UseCookies = true };
        if (from is not null)
        {
            handler.ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new System.Net.Sockets.Socket(from.AddressFamily, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                try
                {
                    socket.Bind(new IPEndPoint(from, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }
        _http = new HttpClient(handler)
        {
            BaseAddress = new Uri(baseUrl),
            Timeout = TimeSpan.FromSeconds(60),
        };
        foreach ((string name, string value) in headers ?? new Dictionary<string, string>())
        {
            _http.DefaultRequestHeaders.Add(name, value);
        }
    }

    public CookieContainer Cookies { get; }

    [GeneratedRegex("name=\"__csrf\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();

    [GeneratedRegex("<form method=\"post\"([^>]*)>", RegexOptions.Singleline)]
    private static partial Regex PostForm();

    public static string? Token(string html) => TokenField().Match(html) is { Success: true } m ? m.Groups[1].Value : null;

    /// <summary>Every POST form's target on a page (its action, or the page itself), with its handler.</summary>
    public static IReadOnlyList<string> PostTargets(string html, string page)
    {
        var targets = new List<string>();
        foreach (Match m in PostForm().Matches(html))
        {
            string attrs = m.Groups[1].Value;
            Match action = Regex.Match(attrs, "action=\"([^\"]*)\"");
            targets.Add(WebUtility.HtmlDecode(action.Success ? action.Groups[1].Value : page));
        }
        return targets.Distinct().ToList();
    }

    public async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> GetAsync(string path, string? bearer = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }
        HttpResponseMessage response = await _http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    public async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> PostAsync(
        string path, IEnumerable<KeyValuePair<string, string>> fields, string? bearer = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(fields) };
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }
        HttpResponseMessage response = await _http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    /// <summary>GETs <paramref name="page"/>, then POSTs its form with the page's anti-forgery token.</summary>
    public async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> PostWithTokenAsync(
        string page, string path, IEnumerable<KeyValuePair<string, string>> fields)
    {
        (_, string html, _) = await GetAsync(page);
        string token = Token(html) ?? throw new InvalidOperationException($"no anti-forgery token on {page}");
        return await PostAsync(path, fields.Append(new("__csrf", token)));
    }

    public async Task<HttpStatusCode> LoginAsync(string user, string password)
    {
        (HttpStatusCode status, _, _) = await PostWithTokenAsync("/login", "/login", [new("user", user), new("password", password), new("returnUrl", "/")]);
        return status;
    }

    public async Task<JsonElement> JsonAsync(string path, string? bearer = null)
    {
        (HttpStatusCode status, string body, _) = await GetAsync(path, bearer);
        if (status != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"GET {path}: {(int)status}\n{body}");
        }
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public void Dispose() => _http.Dispose();
}
