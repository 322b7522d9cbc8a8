using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Border;

/// <summary>
/// The border's counts of the lab's tenant as its three readers show them: the JSON API
/// (border.today), /metrics (respaldo_intake_{refused,deferred}_total) and the dashboard's
/// overview (border-{refused,deferred}-today-REASON cells). Keys are "refused/REASON" and
/// "deferred/REASON"; a reason a view does not show yet counts 0.
/// </summary>
public sealed partial record BorderCounts(
    IReadOnlyDictionary<string, long> Api,
    IReadOnlyDictionary<string, long> Metrics,
    IReadOnlyDictionary<string, long> Dashboard)
{
    public static BorderCounts Empty { get; } = new(new Dictionary<string, long>(), new Dictionary<string, long>(), new Dictionary<string, long>());

    [GeneratedRegex("^respaldo_intake_(?<kind>refused|deferred)_total\\{tenant=\"(?<tenant>[^\"]*)\",reason=\"(?<reason>[^\"]*)\"\\} (?<v>[0-9.e+]+)$", RegexOptions.Multiline)]
    private static partial Regex MetricLine();

    [GeneratedRegex("data-testid=\"border-(?<kind>refused|deferred)-today-(?<reason>[a-z-]+)\" data-value=\"(?<v>\\d+)\"")]
    private static partial Regex Cell();

    public static async Task<BorderCounts> ReadAsync(DashboardClient client, LabFixture lab)
    {
        string tenant = lab["DASHBOARD_TENANT"];
        if (client.Cookies.GetCookies(new Uri(lab["DASHBOARD_URL"])).Count == 0)
        {
            HttpStatusCode login = await client.LoginAsync(lab["DASHBOARD_USER"], lab["DASHBOARD_PASSWORD"]);
            if (login != HttpStatusCode.Redirect)
            {
                throw new InvalidOperationException($"dashboard login: {login}");
            }
        }
        JsonElement status = await client.JsonAsync($"/api/v1/tenants/{tenant}/status", bearer: lab["API_TOKEN"]);
        var api = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string kind in new[] { "refused", "deferred" })
        {
            foreach (JsonProperty p in status.GetProperty("border").GetProperty("today").GetProperty(kind).EnumerateObject())
            {
                api[$"{kind}/{p.Name}"] = p.Value.GetInt64();
            }
        }
        (HttpStatusCode metricsStatus, string metricsText, _) = await client.GetAsync("/metrics");
        if (metricsStatus != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"/metrics: {metricsStatus}");
        }
        var metrics = MetricLine().Matches(metricsText).Where(m => m.Groups["tenant"].Value == tenant)
            .ToDictionary(m => $"{m.Groups["kind"].Value}/{m.Groups["reason"].Value}", m => (long)double.Parse(m.Groups["v"].Value, CultureInfo.InvariantCulture), StringComparer.Ordinal);
        (HttpStatusCode pageStatus, string page, _) = await client.GetAsync($"/t/{tenant}");
        if (pageStatus != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"/t/{tenant}: {pageStatus}");
        }
        var dashboard = Cell().Matches(page)
            .ToDictionary(m => $"{m.Groups["kind"].Value}/{m.Groups["reason"].Value}", m => long.Parse(m.Groups["v"].Value, CultureInfo.InvariantCulture), StringComparer.Ordinal);
        return new BorderCounts(api, metrics, dashboard);
    }

    /// <summary>Every key any view or the expectation names.</summary>
    public static IEnumerable<string> Keys(params IEnumerable<string>[] sets) => sets.SelectMany(s => s).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
}
