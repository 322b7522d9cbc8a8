using System.CommandLine;
using Respaldo.Configuration;
using Respaldo.Templates;

namespace Respaldo.Ctl.Commands;

/// <summary>
/// <c>respaldoctl render</c>: writes Postfix and Dovecot configuration from the templates.
/// Idempotent (unchanged files are not rewritten) and atomic per file; an invalid
/// configuration or a broken template writes nothing.
/// </summary>
internal static class RenderCommand
{
    public const string DefaultOutput = "/etc/respaldo/rendered";

    public static Command Create()
    {
        Option<string?> config = CommonOptions.Config();
        var output = new Option<string>("--out", "-o")
        {
            Description = $"output directory; postfix/ and dovecot/ are written under it (default: {DefaultOutput})",
            DefaultValueFactory = _ => DefaultOutput,
        };
        var templates = new Option<string?>("--templates")
        {
            Description = "templates directory (default: $RESPALDO_TEMPLATES, beside the program, /usr/share/respaldo/postfix-templates)",
        };
        var reload = new Option<bool>("--reload")
        {
            Description = "then reload Postfix and/or Dovecot, each only if its files changed and it is running",
        };
        var command = new Command("render", "render Postfix and Dovecot configuration from the templates") { config, output, templates, reload };
        command.SetAction(result =>
        {
            string path = ConfigurationLoader.ResolvePath(result.GetValue(config));
            (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) = ConfigurationLoader.TryLoad(path);
            if (settings is null)
            {
                Console.Error.WriteLine($"{Path.GetFullPath(path)}: {errors.Count} error(s); nothing rendered");
                foreach (ConfigurationError error in errors)
                {
                    Console.Error.WriteLine($"  {error}");
                }
                return ExitCodes.Failure;
            }
            string outDirectory = Path.GetFullPath(result.GetValue(output)!);
            try
            {
                var renderer = new ConfigRenderer(result.GetValue(templates) ?? ConfigRenderer.DefaultTemplatesDirectory());
                IReadOnlyList<RenderedFile> files = renderer.Render(settings, outDirectory);
                RenderResult written = ConfigRenderer.Write(files, outDirectory);
                uint? authGroup = DovecotGroup();
                if (authGroup is { } g)
                {
                    // Note: Dovecot's auth process runs as user dovecot (default_internal_user):
                    // the password-hash file must be readable by its group, by nobody else.
                    _ = Mono.Unix.Native.Syscall.chown(Path.Combine(outDirectory, "dovecot", "passwd"), 0, g);
                }
                Security.CredentialChange credential = Security.ServiceCredential.EnsureCreated(settings, UserOwner(settings.DaemonUser), authGroup);
                if (credential.MovedAside is { } aside)
                {
                    Console.Error.WriteLine($"warning: {Security.ServiceCredential.Directory(settings)} was not a directory owned by root; moved aside to {aside}, untouched");
                }
                if (credential.Created)
                {
                    Console.WriteLine($"wrote     {Security.ServiceCredential.PasswdPath(settings)} (the controller's submission login)");
                }
                if (settings.Filter.Enabled && Security.ArcKey.EnsureCreated(settings, GroupId("_rspamd")))
                {
                    Console.WriteLine($"wrote     {settings.ArcKeyPath} (the ARC key; publish {Security.ArcKey.DnsRecordPath(settings)} in DNS)");
                }
                foreach (string f in written.Changed)
                {
                    Console.WriteLine($"wrote     {Path.Combine(outDirectory, f)}");
                }
                foreach (string f in written.Unchanged)
                {
                    Console.WriteLine($"unchanged {Path.Combine(outDirectory, f)}");
                }
                return result.GetValue(reload) ? MailServices.ReloadChanged(written, outDirectory,
                    settings.Filter.Enabled ? Path.Combine(settings.Filter.WorkDirectory, "rspamd.pid") : null) : ExitCodes.Success;
            }
            catch (Exception e) when (e is TemplateException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"render failed: {e.Message}");
                return ExitCodes.Failure;
            }
        });
        return command;
    }

    /// <summary>The group of Dovecot's unprivileged processes when running as root; null otherwise.</summary>
    private static uint? DovecotGroup() => GroupId("dovecot");

    /// <summary>A group's id when running as root (render hands files to it); null otherwise or when it does not exist.</summary>
    private static uint? GroupId(string name)
    {
        if (Mono.Unix.Native.Syscall.getuid() != 0)
        {
            return null;
        }
        Mono.Unix.Native.Group? entry = Mono.Unix.Native.Syscall.getgrnam(name);
        return entry?.gr_gid;
    }

    /// <summary>A user's uid and gid when running as root (the daemon user: its group reads the submission password); null otherwise.</summary>
    private static (uint, uint)? UserOwner(string user)
    {
        if (Mono.Unix.Native.Syscall.getuid() != 0)
        {
            return null;
        }
        Mono.Unix.Native.Passwd? entry = Mono.Unix.Native.Syscall.getpwnam(user);
        return entry is null ? null : (entry.pw_uid, entry.pw_gid);
    }
}
