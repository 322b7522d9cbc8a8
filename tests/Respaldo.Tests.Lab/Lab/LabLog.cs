namespace Respaldo.Tests.Lab;

/// <summary>Reads a log the lab's daemons are still writing.</summary>
public static class LabLog
{
    /// <summary>How many lines of <paramref name="log"/> contain <paramref name="text"/>.</summary>
    public static int CountLines(string log, string text)
    {
        using var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n').Count(l => l.Contains(text, StringComparison.Ordinal));
    }
}
