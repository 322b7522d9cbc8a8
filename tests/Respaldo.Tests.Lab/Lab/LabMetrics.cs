using System.Globalization;

namespace Respaldo.Tests.Lab;

/// <summary>The lab's daemon's /metrics, as a loopback scraper reads it.</summary>
public static class LabMetrics
{
    public static async Task<string> ScrapeAsync(LabFixture lab)
    {
        using var http = new HttpClient();
        return await http.GetStringAsync(new Uri(new Uri(lab["DASHBOARD_URL"]), "/metrics"));
    }

    /// <summary>The sample of <paramref name="series"/> (name and labels as exported); a test failure when there is none.</summary>
    public static double Value(string metrics, string series)
    {
        string line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"no sample {series} in /metrics:\n{metrics}");
        return double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
    }

    public static double ValueOrZero(string metrics, string series) =>
        metrics.Split('\n').Any(l => l.StartsWith(series + " ", StringComparison.Ordinal)) ? Value(metrics, series) : 0;
}
