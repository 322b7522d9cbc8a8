namespace Respaldo.Configuration;

/// <summary>
/// The errors the validator has found so far, in the order it found them. A rule reports
/// through a <see cref="ConfigPath"/>, which knows where in the file it stands.
/// </summary>
internal sealed class ErrorCollector
{
    private readonly List<ConfigurationError> _errors = [];

    public IReadOnlyList<ConfigurationError> Errors => _errors;

    public int Count => _errors.Count;

    /// <summary>The top of the file: <c>Root.At("tenants").At(3).At("primary")</c> is <c>tenants[3].primary</c>.</summary>
    public ConfigPath Root => new(this, "");

    public void Add(string path, string message) => _errors.Add(new ConfigurationError(path, message));
}

/// <summary>
/// A place in the configuration file (its JSON path) and the collector its errors go to: each
/// section's rules descend into it (<see cref="At(string)"/>, <see cref="At(int)"/>) and report
/// with <see cref="Error"/>, so no rule spells a path out.
/// </summary>
internal sealed class ConfigPath(ErrorCollector errors, string path)
{
    public string Path { get; } = path;

    /// <summary>A property of the object here: <c>web</c> → <c>web.listen</c>.</summary>
    public ConfigPath At(string property) => new(errors, Path.Length == 0 ? property : Path + "." + property);

    /// <summary>An element of the array here: <c>web.listen</c> → <c>web.listen[2]</c>.</summary>
    public ConfigPath At(int index) => new(errors, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Path}[{index}]"));

    /// <summary>What is wrong here.</summary>
    public void Error(string message) => errors.Add(Path, message);

    /// <summary>How many errors the whole file has so far (a section compares before and after).</summary>
    public int ErrorCount => errors.Count;

    public override string ToString() => Path;
}
