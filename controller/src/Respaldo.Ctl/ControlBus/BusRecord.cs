using System.Globalization;
using System.Text.Json;
using Tmds.DBus.Protocol;

namespace Respaldo.Ctl.ControlBus;

/// <summary>Reading the contract's a{sv} records: typed getters with defaults, and JSON for --json.</summary>
internal static class BusRecord
{
    public static string Str(this Dictionary<string, VariantValue> r, string key) =>
        r.TryGetValue(key, out VariantValue v) ? Scalar(v)?.ToString() ?? "" : "";

    public static long Long(this Dictionary<string, VariantValue> r, string key) =>
        r.TryGetValue(key, out VariantValue v) && Scalar(v) is { } o ? Convert.ToInt64(o, CultureInfo.InvariantCulture) : 0;

    public static double Double(this Dictionary<string, VariantValue> r, string key) =>
        r.TryGetValue(key, out VariantValue v) && Scalar(v) is { } o ? Convert.ToDouble(o, CultureInfo.InvariantCulture) : 0;

    public static bool Bool(this Dictionary<string, VariantValue> r, string key) =>
        r.TryGetValue(key, out VariantValue v) && Scalar(v) is bool b && b;

    /// <summary>A unix-milliseconds field as a time, or null when 0.</summary>
    public static DateTimeOffset? Time(this Dictionary<string, VariantValue> r, string key) =>
        r.Long(key) is var ms and > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;

    private static object? Scalar(VariantValue v) => v.Type switch
    {
        VariantValueType.Variant => Scalar(v.GetVariantValue()),
        VariantValueType.String => v.GetString(),
        VariantValueType.ObjectPath => v.GetObjectPathAsString(),
        VariantValueType.Bool => v.GetBool(),
        VariantValueType.Byte => v.GetByte(),
        VariantValueType.Int16 => v.GetInt16(),
        VariantValueType.UInt16 => v.GetUInt16(),
        VariantValueType.Int32 => v.GetInt32(),
        VariantValueType.UInt32 => v.GetUInt32(),
        VariantValueType.Int64 => v.GetInt64(),
        VariantValueType.UInt64 => v.GetUInt64(),
        VariantValueType.Double => v.GetDouble(),
        _ => null,
    };

    public static void WriteJson(Utf8JsonWriter json, Dictionary<string, VariantValue> r)
    {
        json.WriteStartObject();
        foreach ((string key, VariantValue value) in r.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            json.WritePropertyName(key);
            switch (Scalar(value))
            {
                case string s: json.WriteStringValue(s); break;
                case bool b: json.WriteBooleanValue(b); break;
                case double d: json.WriteNumberValue(d); break;
                case null: json.WriteNullValue(); break;
                case var n: json.WriteNumberValue(Convert.ToInt64(n, CultureInfo.InvariantCulture)); break;
            }
        }
        json.WriteEndObject();
    }

    public static void WriteJsonArray(Utf8JsonWriter json, IEnumerable<Dictionary<string, VariantValue>> records)
    {
        json.WriteStartArray();
        foreach (Dictionary<string, VariantValue> r in records)
        {
            WriteJson(json, r);
        }
        json.WriteEndArray();
    }

    /// <summary>Writes one JSON document to standard output (indented: people read it too).</summary>
    public static void PrintJson(Action<Utf8JsonWriter> write)
    {
        using Stream stdout = Console.OpenStandardOutput();
        using (var json = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
        {
            write(json);
        }
        stdout.Write("\n"u8);
    }

    public static string Size(long bytes) => bytes switch
    {
        < 1000 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        < 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1000.0:0.#} kB"),
        < 1_000_000_000 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1_000_000.0:0.#} MB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1_000_000_000.0:0.##} GB"),
    };

    public static string When(DateTimeOffset? at)
    {
        if (at is not { } t)
        {
            return "-";
        }
        DateTimeOffset local = t.ToLocalTime();
        return local.Date == DateTimeOffset.Now.Date
            ? local.ToString("HH:mm:ss", CultureInfo.InvariantCulture)
            : local.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
    }
}
