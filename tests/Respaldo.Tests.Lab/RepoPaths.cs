namespace Respaldo.Tests;

/// <summary>Paths inside the repository, found from the test binary's location (artifacts/ is inside it).</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Templates => Path.Combine(Root, "postfix-templates");

    public static string Golden => Path.Combine(Root, "tests", "golden");

    private static string FindRoot()
    {
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (Directory.Exists(Path.Combine(dir, "postfix-templates")) && File.Exists(Path.Combine(dir, "Makefile")))
            {
                return dir;
            }
        }
        throw new InvalidOperationException($"repository root not found above {AppContext.BaseDirectory}");
    }
}
