using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Html;
using Respaldo.Status;

namespace Respaldo.Daemon.Web.Dashboard;

/// <summary>
/// Server-rendered SVG charts: messages waiting as a line over the window, and under it the
/// primary's state per bucket (green up, red down, grey unknown). Only numbers and fixed
/// strings go into the markup, so nothing needs escaping beyond the labels (encoded).
/// </summary>
public static class Charts
{
    private const int Width = 720;
    private const int Height = 160;
    private const int Band = 14;

    public static IHtmlContent Render(ChartSeries series, string title, string startLabel, string endLabel)
    {
        CultureInfo inv = CultureInfo.InvariantCulture;
        int n = series.Waiting.Count;
        int max = Math.Max(1, series.Waiting.DefaultIfEmpty(0).Max());
        double step = (double)Width / Math.Max(1, n);
        int plot = Height - Band - 20;
        var svg = new StringBuilder();
        svg.Append(inv, $"<svg viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-label=\"{Encode(title)}\" xmlns=\"http://www.w3.org/2000/svg\">");
        svg.Append(inv, $"<text x=\"4\" y=\"12\" font-size=\"11\" fill=\"#5b6576\">{max}</text>");
        svg.Append(inv, $"<line x1=\"0\" y1=\"{plot + 4}\" x2=\"{Width}\" y2=\"{plot + 4}\" stroke=\"#d9dee7\"/>");
        var points = new StringBuilder();
        for (int i = 0; i < n; i++)
        {
            double x = (i + 0.5) * step;
            double y = 4 + plot - (plot - 12) * series.Waiting[i] / (double)max;
            points.Append(inv, $"{x:0.#},{y:0.#} ");
        }
        svg.Append(inv, $"<polyline fill=\"none\" stroke=\"#2456a6\" stroke-width=\"2\" points=\"{points.ToString().TrimEnd()}\"/>");
        for (int i = 0; i < n; i++)
        {
            string colour = series.PrimaryUp[i] switch { true => "#1f8a4c", false => "#c0392b", null => "#c9ced8" };
            string state = series.PrimaryUp[i] switch { true => "up", false => "down", null => "unknown" };
            svg.Append(inv, $"<rect x=\"{i * step:0.##}\" y=\"{plot + 8}\" width=\"{step + 0.3:0.##}\" height=\"{Band}\" fill=\"{colour}\" data-state=\"{state}\"/>");
        }
        svg.Append(inv, $"<text x=\"0\" y=\"{Height - 2}\" font-size=\"11\" fill=\"#5b6576\">{Encode(startLabel)}</text>");
        svg.Append(inv, $"<text x=\"{Width}\" y=\"{Height - 2}\" font-size=\"11\" fill=\"#5b6576\" text-anchor=\"end\">{Encode(endLabel)}</text>");
        svg.Append("</svg>");
        return new HtmlString(svg.ToString());
    }

    private static string Encode(string s) => System.Net.WebUtility.HtmlEncode(s);
}
