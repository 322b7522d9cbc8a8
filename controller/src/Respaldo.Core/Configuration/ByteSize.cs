using System.Globalization;
using System.Text.RegularExpressions;

namespace Respaldo.Configuration;

/// <summary>
/// Sizes as admins write them. Decimal units (kB, MB, GB, TB) are powers of 1000 and binary
/// units (KiB, MiB, GiB, TiB) powers of 1024 (IEC 80000-13), so "50MB" means what a disk
/// vendor means and "50MiB" what Postfix's byte count shows.
/// </summary>
public static partial class ByteSize
{
    [GeneratedRegex(@"\A\s*(?<n>\d+(\.\d+)?)\s*(?<u>[kKMGT]i?B|B)?\s*\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        Match m = Pattern().Match(text);
        if (!m.Success)
        {
            return false;
        }
        decimal n = decimal.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture);
        decimal factor = m.Groups["u"].Value switch
        {
            "" or "B" => 1m,
            "kB" or "KB" => 1e3m,
            "MB" => 1e6m,
            "GB" => 1e9m,
            "TB" => 1e12m,
            "KiB" => 1024m,
            "MiB" => 1024m * 1024,
            "GiB" => 1024m * 1024 * 1024,
            "TiB" => 1024m * 1024 * 1024 * 1024,
            _ => -1m,
        };
        if (factor < 0)
        {
            return false;
        }
        decimal value = decimal.Floor(n * factor);
        if (value > long.MaxValue)
        {
            return false;
        }
        bytes = (long)value;
        return true;
    }

    /// <summary>A short human form for logs and pages: 1.5 MiB, 120 KiB, 12 B.</summary>
    public static string Format(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double v = bytes;
        int i = 0;
        while (Math.Abs(v) >= 1024 && i < units.Length - 1)
        {
            v /= 1024;
            i++;
        }
        return i == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes} B")
            : string.Create(CultureInfo.InvariantCulture, $"{v:0.#} {units[i]}");
    }
}
