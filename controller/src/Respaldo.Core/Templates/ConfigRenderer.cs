using System.Text;
using Respaldo.Configuration;
using Respaldo.Storage;
using Scriban;
using Scriban.Runtime;

namespace Respaldo.Templates;

/// <summary>
/// Renders Postfix and Dovecot configuration from the templates in postfix-templates/.
/// Every <c>X.sbn</c> under the templates directory becomes <c>X</c> under the output
/// directory (postfix/main.cf.sbn → OUT/postfix/main.cf). Rendering is pure and happens
/// in memory first, so a template error writes nothing; writing is per file atomic and
/// skips files whose content is already right, so Postfix and Dovecot are reloaded only
/// when something changed.
/// </summary>
public sealed class ConfigRenderer
{
    public const string TemplateExtension = ".sbn";

    /// <summary>Files that hold password hashes: readable by their owner and group only.</summary>
    private static readonly HashSet<string> Secret = new(StringComparer.Ordinal) { "dovecot/passwd" };

    private const UnixFileMode Public =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;

    public ConfigRenderer(string templatesDirectory)
    {
        TemplatesDirectory = Path.GetFullPath(templatesDirectory);
        if (!Directory.Exists(TemplatesDirectory))
        {
            throw new DirectoryNotFoundException($"templates directory {TemplatesDirectory} does not exist");
        }
    }

    public string TemplatesDirectory { get; }

    /// <summary>
    /// Where the templates are when no directory is given: $RESPALDO_TEMPLATES, beside the
    /// binaries (build output and install), then the installed share directory.
    /// </summary>
    public static string DefaultTemplatesDirectory()
    {
        string? fromEnvironment = Environment.GetEnvironmentVariable("RESPALDO_TEMPLATES");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return fromEnvironment;
        }
        string besideBinaries = Path.Combine(AppContext.BaseDirectory, "postfix-templates");
        return Directory.Exists(besideBinaries) ? besideBinaries : "/usr/share/respaldo/postfix-templates";
    }

    public IReadOnlyList<RenderedFile> Render(RespaldoSettings settings, string outputDirectory)
    {
        string output = Path.GetFullPath(outputDirectory);
        var files = new List<RenderedFile>();
        foreach (string templatePath in Directory.EnumerateFiles(TemplatesDirectory, "*" + TemplateExtension, SearchOption.AllDirectories)
                     .Order(StringComparer.Ordinal))
        {
            string relativeTemplate = Path.GetRelativePath(TemplatesDirectory, templatePath);
            string relative = relativeTemplate[..^TemplateExtension.Length];
            string header =
                $"# Rendered by respaldoctl from postfix-templates/{relativeTemplate} and {settings.SourcePath}.\n" +
                "# Do not edit: change the configuration and run 'respaldoctl render'.";
            TemplateModel model = TemplateModel.From(settings, output, header);
            files.Add(new RenderedFile(relative, RenderOne(templatePath, relativeTemplate, model),
                Secret.Contains(relative) ? Private : Public));
        }
        if (files.Count == 0)
        {
            throw new InvalidOperationException($"no *{TemplateExtension} templates in {TemplatesDirectory}");
        }
        return files;
    }

    private static string RenderOne(string templatePath, string name, TemplateModel model)
    {
        Template template = Template.Parse(File.ReadAllText(templatePath), name);
        if (template.HasErrors)
        {
            throw new TemplateException(name, string.Join("; ", template.Messages));
        }
        var globals = new ScriptObject();
        globals.Import(model);
        var context = new TemplateContext
        {
            StrictVariables = true,
            EnableRelaxedMemberAccess = false,
            // Note: config files are line-oriented; a template must not grow a trailing blank.
            NewLine = "\n",
            // Note: Scriban stops any loop after 1,000 iterations by default, a guard for
            // untrusted templates; ours iterate over the configuration's own lists, and a
            // tenant may have thousands of mailboxes.
            LoopLimit = 0,
            // Note: Scriban also cuts any output longer than 1,048,576 characters, silently, with
            // "..." (LimitToString); the mailbox lists of 100,000 mailboxes are megabytes, and a
            // cut list made Postfix refuse two thirds of them as unknown (found by bench-scale).
            LimitToString = 0,
        };
        context.PushGlobal(globals);
        try
        {
            string text = template.Render(context);
            return text.EndsWith('\n') ? text : text + "\n";
        }
        catch (Scriban.Syntax.ScriptRuntimeException e)
        {
            throw new TemplateException(name, e.Message);
        }
    }

    /// <summary>Writes the rendered files under <paramref name="outputDirectory"/>; unchanged files are left alone.</summary>
    public static RenderResult Write(IReadOnlyList<RenderedFile> files, string outputDirectory)
    {
        var changed = new List<string>();
        var unchanged = new List<string>();
        foreach (RenderedFile file in files)
        {
            string path = Path.Combine(outputDirectory, file.RelativePath);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            bool wrote = AtomicFile.WriteIfChanged(path, Encoding.UTF8.GetBytes(file.Content), file.Mode);
            (wrote ? changed : unchanged).Add(file.RelativePath);
        }
        return new RenderResult(changed, unchanged);
    }
}

/// <summary>A template that does not parse or render; names the template.</summary>
public sealed class TemplateException : Exception
{
    public TemplateException(string template, string message) : base($"template {template}: {message}")
    {
        Template = template;
    }

    public TemplateException() : this("", "") { }

    public TemplateException(string message) : base(message) { Template = ""; }

    public TemplateException(string message, Exception inner) : base(message, inner) { Template = ""; }

    public string Template { get; } = "";
}
