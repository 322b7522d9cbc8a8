using System.Text.Json;
using System.Text.Json.Serialization;

namespace Respaldo.Configuration;

/// <summary>Reads and validates /etc/respaldo/respaldo.json (or the file given).</summary>
public static class ConfigurationLoader
{
    public const string DefaultPath = "/etc/respaldo/respaldo.json";

    /// <summary>The path named by RESPALDO_CONFIG, else the default.</summary>
    public static string ResolvePath(string? given) =>
        given ?? Environment.GetEnvironmentVariable("RESPALDO_CONFIG") ?? DefaultPath;

    internal static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        // Note: a misspelt field ("mailboxs") must be an error, not a silently ignored line.
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        MaxDepth = 16,
    };

    /// <summary>Loads the file; never throws for a bad file, it returns the errors instead.</summary>
    public static (RespaldoSettings? Settings, IReadOnlyList<ConfigurationError> Errors) TryLoad(string path)
    {
        string fullPath = Path.GetFullPath(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(fullPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, [new ConfigurationError("", $"cannot read {fullPath}: {e.Message}")]);
        }
        return Parse(bytes, fullPath);
    }

    public static (RespaldoSettings? Settings, IReadOnlyList<ConfigurationError> Errors) Parse(
        ReadOnlySpan<byte> json, string sourcePath)
    {
        ConfigurationFile? file;
        try
        {
            file = JsonSerializer.Deserialize<ConfigurationFile>(json, Options);
        }
        catch (JsonException e)
        {
            return (null, [FromJsonException(e)]);
        }
        if (file is null)
        {
            return (null, [new ConfigurationError("", "the file holds null; expected an object")]);
        }
        return ConfigurationValidator.Validate(file, sourcePath);
    }

    /// <summary>Loads the file or throws <see cref="ConfigurationException"/> listing every error.</summary>
    public static RespaldoSettings Load(string path)
    {
        (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) = TryLoad(path);
        return settings ?? throw new ConfigurationException(Path.GetFullPath(path), errors);
    }

    private static ConfigurationError FromJsonException(JsonException e)
    {
        // Note: System.Text.Json paths look like "$.tenants[1].domains"; ours drop the "$.".
        string path = e.Path is null ? "" : e.Path.TrimStart('$').TrimStart('.');
        string where = e.LineNumber is { } line ? $" (line {line + 1}, column {e.BytePositionInLine + 1})" : "";
        string message = e.Message;
        if (message.Contains("could not be mapped", StringComparison.Ordinal))
        {
            message = "unknown field; check its spelling against README \"Configuration\"";
        }
        else
        {
            int cut = message.IndexOf(" Path: ", StringComparison.Ordinal);
            if (cut >= 0)
            {
                message = message[..cut];
            }
            message = message.Replace("The JSON value could not be converted to ", "wrong type: expected ", StringComparison.Ordinal);
        }
        return new ConfigurationError(path, message + where);
    }
}
