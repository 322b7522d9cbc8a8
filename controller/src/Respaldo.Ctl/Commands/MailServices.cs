using System.Diagnostics;
using Respaldo.Templates;

namespace Respaldo.Ctl.Commands;

/// <summary>
/// <c>render --reload</c>: Postfix and Dovecot re-read their configuration only when a file of
/// theirs changed (ConfigRenderer.Write skips identical files), and only if they run: a
/// stopped one reads the new files when it starts.
/// </summary>
internal static class MailServices
{
    public static int ReloadChanged(RenderResult written, string outDirectory, string? rspamdPidFile)
    {
        int exit = ExitCodes.Success;
        exit = ReloadRspamd(written, rspamdPidFile, exit);
        string postfix = Path.Combine(outDirectory, "postfix");
        if (!written.PostfixChanged)
        {
            Console.WriteLine("postfix: configuration unchanged, not reloaded");
        }
        else if (Run("postfix", "-c", postfix, "status").ExitCode != 0)
        {
            Console.WriteLine("postfix: not running; it reads the new configuration when it starts");
        }
        else
        {
            exit = Report("postfix", Run("postfix", "-c", postfix, "reload"), exit);
        }
        string dovecot = Path.Combine(outDirectory, "dovecot", "dovecot.conf");
        if (!written.DovecotChanged)
        {
            Console.WriteLine("dovecot: configuration unchanged, not reloaded");
        }
        else
        {
            // Note: 'dovecot reload' signals the master named by the configuration's base_dir;
            // it fails with "not running" when there is none, which is no error here.
            (int code, string output) = Run("dovecot", "-c", dovecot, "reload");
            if (code != 0 && output.Contains("not running", StringComparison.OrdinalIgnoreCase))
            {
                Console.WriteLine("dovecot: not running; it reads the new configuration when it starts");
            }
            else
            {
                exit = Report("dovecot", (code, output), exit);
            }
        }
        return exit;
    }

    /// <summary>rspamd re-reads its configuration on SIGHUP (its pid file is in filter.workDirectory).</summary>
    private static int ReloadRspamd(RenderResult written, string? pidFile, int exit)
    {
        if (pidFile is null)
        {
            return exit;
        }
        if (!written.RspamdChanged)
        {
            Console.WriteLine("rspamd: configuration unchanged, not reloaded");
            return exit;
        }
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), out int pid) || pid <= 1
            || Mono.Unix.Native.Syscall.kill(pid, 0) != 0)
        {
            Console.WriteLine("rspamd: not running; it reads the new configuration when it starts");
            return exit;
        }
        if (Mono.Unix.Native.Syscall.kill(pid, Mono.Unix.Native.Signum.SIGHUP) != 0)
        {
            Console.Error.WriteLine($"rspamd: reload failed: {Mono.Unix.Native.Stdlib.strerror(Mono.Unix.Native.Stdlib.GetLastError())}");
            return ExitCodes.Failure;
        }
        Console.WriteLine("rspamd: reloaded");
        return exit;
    }

    private static int Report(string name, (int ExitCode, string Output) result, int exit)
    {
        if (result.ExitCode == 0)
        {
            Console.WriteLine($"{name}: reloaded");
            return exit;
        }
        Console.Error.WriteLine($"{name}: reload failed (exit {result.ExitCode}): {result.Output.Trim()}");
        return ExitCodes.Failure;
    }

    private static (int ExitCode, string Output) Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args)
        {
            info.ArgumentList.Add(a);
        }
        try
        {
            using Process process = Process.Start(info)!;
            var stderr = new System.Text.StringBuilder();
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    lock (stderr)
                    {
                        stderr.AppendLine(e.Data);
                    }
                }
            };
            process.BeginErrorReadLine();
            string stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            lock (stderr)
            {
                return (process.ExitCode, stdout + stderr);
            }
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (127, $"{file}: {e.Message}");
        }
    }
}
