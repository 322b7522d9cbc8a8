namespace Respaldo.Configuration;

// Values several sections share: sizes and absolute paths.
public static partial class ConfigurationValidator
{
    private static long Size(SizeValue? value, long fallback, ConfigPath at)
    {
        if (value is null)
        {
            return fallback;
        }
        if (!ByteSize.TryParse(value.Text, out long bytes))
        {
            at.Error($"\"{value.Text}\" is not a size: write bytes (52428800) or a number with kB/MB/GB/TB or KiB/MiB/GiB/TiB (\"50MB\")");
            return fallback;
        }
        return bytes;
    }

    private static string AbsolutePath(string? text, string fallback, ConfigPath at)
    {
        if (text is null)
        {
            return fallback;
        }
        if (!Path.IsPathFullyQualified(text) || text.Contains('\0', StringComparison.Ordinal))
        {
            at.Error($"\"{text}\" must be an absolute path");
            return fallback;
        }
        return Path.TrimEndingDirectorySeparator(text);
    }

    private static string? OptionalAbsolutePath(string? text, ConfigPath at) =>
        text is null ? null : AbsolutePath(text, "", at);
}
