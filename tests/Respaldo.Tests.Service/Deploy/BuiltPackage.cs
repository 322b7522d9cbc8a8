using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Service.Deploy;

/// <summary>
/// The Debian package, built once per test run with deploy/package/build-deb (gzip: it packs in
/// seconds) into a directory of its own, removed when the test process ends. The package tests
/// and the real-systemd test install the same file.
/// </summary>
public static class BuiltPackage
{
    private static readonly Lazy<Task<(ProcessRunner.Result Build, string Deb)>> Once = new(BuildAsync);

    public static Task<(ProcessRunner.Result Build, string Deb)> GetAsync() => Once.Value;

    private static async Task<(ProcessRunner.Result, string)> BuildAsync()
    {
        string output = Directory.CreateTempSubdirectory("respaldo-deb-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(output, recursive: true);
        ProcessRunner.Result build = await ProcessRunner.RunAsync(Path.Combine(RepoPaths.Root, "deploy", "package", "build-deb"), [output],
            new Dictionary<string, string> { ["RESPALDO_DEB_COMPRESSION"] = "gzip" }, timeout: TimeSpan.FromMinutes(8));
        string deb = build.Output.Trim().Split('\n')[^1];
        return (build, deb);
    }
}
