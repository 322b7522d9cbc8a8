using Respaldo.Configuration;
using Respaldo.Templates;

namespace Respaldo.Tests.Templates;

/// <summary>
/// Golden files: tests/golden/CASE.json rendered as if into /etc/respaldo/rendered must equal
/// tests/golden/CASE/**. After an intended template change, regenerate them with
/// <c>UPDATE_GOLDEN=1 make test-unit</c> and review the diff like code.
/// </summary>
public sealed class ConfigRendererTests : IDisposable
{
    private const string RenderedAs = "/etc/respaldo/rendered";
    private readonly string _out = Directory.CreateTempSubdirectory("respaldo-render-").FullName;

    public void Dispose() => Directory.Delete(_out, recursive: true);

    private static RespaldoSettings Load(string name)
    {
        (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) =
            ConfigurationLoader.Parse(File.ReadAllBytes(Path.Combine(RepoPaths.Golden, name + ".json")), $"/etc/respaldo/{name}.json");
        Assert.True(settings is not null, string.Join("\n", errors));
        return settings;
    }

    [Theory]
    [InlineData("minimal")]
    [InlineData("multi-tenant")]
    public void RendersTheGoldenFiles(string name)
    {
        IReadOnlyList<RenderedFile> files = new ConfigRenderer(RepoPaths.Templates).Render(Load(name), RenderedAs);
        string goldenDir = Path.Combine(RepoPaths.Golden, name);
        if (Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1")
        {
            foreach (RenderedFile f in files)
            {
                string target = Path.Combine(goldenDir, f.RelativePath);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.WriteAllText(target, f.Content);
            }
        }
        string[] expectedFiles = Directory.EnumerateFiles(goldenDir, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(goldenDir, p)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expectedFiles, files.Select(f => f.RelativePath).Order(StringComparer.Ordinal));
        foreach (RenderedFile f in files)
        {
            Assert.Equal(File.ReadAllText(Path.Combine(goldenDir, f.RelativePath)), f.Content);
        }
    }

    [Fact]
    public void SecondWriteChangesNothingAndAChangeRewritesOnlyItsFiles()
    {
        var renderer = new ConfigRenderer(RepoPaths.Templates);
        RespaldoSettings settings = Load("minimal");
        RenderResult first = ConfigRenderer.Write(renderer.Render(settings, _out), _out);
        Assert.Contains("postfix/main.cf", first.Changed);
        Assert.Empty(first.Unchanged);

        RenderResult second = ConfigRenderer.Write(renderer.Render(settings, _out), _out);
        Assert.Empty(second.Changed);
        Assert.False(second.PostfixChanged || second.DovecotChanged);

        RespaldoSettings bigger = settings with
        {
            Tenants = [settings.Tenants[0] with { Mailboxes = [.. settings.Tenants[0].Mailboxes, new Mailbox("nuevo@suempresa.es", null, null)] }],
        };
        RenderResult third = ConfigRenderer.Write(renderer.Render(bigger, _out), _out);
        Assert.Equal(["dovecot/users", "postfix/virtual_mailboxes"], third.Changed.Order(StringComparer.Ordinal));
        Assert.Contains("nuevo@suempresa.es suempresa", File.ReadAllText(Path.Combine(_out, "postfix/virtual_mailboxes")), StringComparison.Ordinal);
    }

    [Fact]
    public void RendersATenantWithMoreMailboxesThanScribansDefaultLoopLimit()
    {
        // Note: Scriban caps loops at 1,000 iterations unless told otherwise; the benchmark's
        // 1,003 mailboxes found it. Ten thousand mailboxes are a supported size (issue 3).
        RespaldoSettings settings = Load("minimal");
        Mailbox[] many = Enumerable.Range(1, 10_000).Select(i => new Mailbox($"buzon{i:00000}@suempresa.es", null, null)).ToArray();
        RespaldoSettings big = settings with { Tenants = [settings.Tenants[0] with { Mailboxes = many }] };

        IReadOnlyList<RenderedFile> files = new ConfigRenderer(RepoPaths.Templates).Render(big, RenderedAs);

        string users = files.Single(f => f.RelativePath == "dovecot/users").Content;
        string mailboxes = files.Single(f => f.RelativePath == "postfix/virtual_mailboxes").Content;
        Assert.Equal(10_000, users.Split('\n').Count(l => l.StartsWith("buzon", StringComparison.Ordinal)));
        Assert.Equal(10_000, mailboxes.Split('\n').Count(l => l.StartsWith("buzon", StringComparison.Ordinal)));
        Assert.Contains("buzon10000@suempresa.es", users, StringComparison.Ordinal);
    }

    [Fact]
    public void RendersMailboxListsLongerThanScribansDefaultOutputLimit()
    {
        // Note: Scriban cuts an output longer than 1,048,576 characters with "..." unless told
        // otherwise; bench-scale's 100,000 mailboxes (issue 14) found it: the lists stopped at
        // about 33,000 addresses and Postfix refused the rest as unknown.
        RespaldoSettings settings = Load("minimal");
        Mailbox[] many = Enumerable.Range(1, 100_000).Select(i => new Mailbox($"buzon{i:000000}@suempresa.es", null, null)).ToArray();
        RespaldoSettings big = settings with { Tenants = [settings.Tenants[0] with { Mailboxes = many }] };

        IReadOnlyList<RenderedFile> files = new ConfigRenderer(RepoPaths.Templates).Render(big, RenderedAs);

        string users = files.Single(f => f.RelativePath == "dovecot/users").Content;
        string mailboxes = files.Single(f => f.RelativePath == "postfix/virtual_mailboxes").Content;
        Assert.Equal(100_000, users.Split('\n').Count(l => l.StartsWith("buzon", StringComparison.Ordinal)));
        Assert.Equal(100_000, mailboxes.Split('\n').Count(l => l.StartsWith("buzon", StringComparison.Ordinal)));
        Assert.Contains("buzon100000@suempresa.es suempresa", mailboxes, StringComparison.Ordinal);
        Assert.DoesNotContain("...", mailboxes, StringComparison.Ordinal);
    }

    [Fact]
    public void KeepsThePasswordFileFromOtherUsers()
    {
        ConfigRenderer.Write(new ConfigRenderer(RepoPaths.Templates).Render(Load("multi-tenant"), _out), _out);
        UnixFileMode mode = File.GetUnixFileMode(Path.Combine(_out, "dovecot/passwd"));
        Assert.Equal(UnixFileMode.None, mode & (UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.GroupWrite));
    }

    [Fact]
    public void ABrokenTemplateWritesNothing()
    {
        string templates = Path.Combine(_out, "templates");
        Directory.CreateDirectory(Path.Combine(templates, "postfix"));
        File.WriteAllText(Path.Combine(templates, "postfix", "a.cf.sbn"), "fine = {{ hostname }}\n");
        File.WriteAllText(Path.Combine(templates, "postfix", "b.cf.sbn"), "broken = {{ no_such_value }}\n");
        string target = Path.Combine(_out, "rendered");
        var renderer = new ConfigRenderer(templates);
        TemplateException e = Assert.Throws<TemplateException>(() => renderer.Render(Load("minimal"), target));
        Assert.Contains("b.cf.sbn", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(target));
    }

    [Fact]
    public void DomainsBecomeAnchoredRegexps()
    {
        RenderedFile domains = new ConfigRenderer(RepoPaths.Templates).Render(Load("multi-tenant"), RenderedAs)
            .Single(f => f.RelativePath == "postfix/virtual_domains.regexp");
        string[] lines = domains.Content.Split('\n').Where(l => l.StartsWith('/')).ToArray();
        Assert.Equal(
        [
            @"/^suempresa\.es$/ suempresa",
            @"/\.suempresa\.es$/ suempresa",
            @"/^suempresa\.com$/ suempresa",
            @"/^otra\.example$/ otra",
        ], lines);
    }
}
