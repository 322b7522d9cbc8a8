using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Respaldo.Configuration;

/// <summary>Reads a size written either as a JSON number or as a string, keeping its text.</summary>
public sealed class SizeValueJsonConverter : JsonConverter<SizeValue>
{
    public override SizeValue Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.Number => new SizeValue(reader.GetDecimal().ToString(CultureInfo.InvariantCulture)),
            JsonTokenType.String => new SizeValue(reader.GetString() ?? ""),
            _ => throw new JsonException("expected a size: a number of bytes or a string such as \"50MB\""),
        };

    public override void Write(Utf8JsonWriter writer, SizeValue value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.Text);
}
