namespace Respaldo.Configuration;

/// <summary>One problem in the configuration file, named by its JSON path (<c>tenants[1].domains[0]</c>).</summary>
public sealed record ConfigurationError(string Path, string Message)
{
    public override string ToString() => Path.Length == 0 ? Message : $"{Path}: {Message}";
}

/// <summary>Thrown where a caller needs settings and the file has errors; carries them all.</summary>
public sealed class ConfigurationException : Exception
{
    public ConfigurationException(string path, IReadOnlyList<ConfigurationError> errors)
        : base($"{path}: {errors.Count} configuration error(s):{Environment.NewLine}  "
            + string.Join(Environment.NewLine + "  ", errors))
    {
        Errors = errors;
    }

    public ConfigurationException() : this("", []) { }

    public ConfigurationException(string message) : base(message) { Errors = []; }

    public ConfigurationException(string message, Exception inner) : base(message, inner) { Errors = []; }

    public IReadOnlyList<ConfigurationError> Errors { get; } = [];
}
