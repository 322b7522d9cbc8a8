using System.Globalization;

namespace Respaldo.Tests.Lab;

/// <summary>Reloads the lab's controller as systemctl reload does, and waits for it to say so.</summary>
public static class ControllerReload
{
    /// <summary>Writes the configuration, sends SIGHUP and waits for the daemon's "reloaded" line.</summary>
    public static async Task ReloadAsync(LabFixture lab, string path, string text)
    {
        string log = Path.Combine(lab["LOGS"], "controller.log");
        int before = CountReloads(log);
        await File.WriteAllTextAsync(path, text);
        int pid = int.Parse((await File.ReadAllTextAsync(lab["CONTROLLER_PIDFILE"])).Trim(), CultureInfo.InvariantCulture);
        Assert.Equal(0, (await ProcessRunner.RunAsync("kill", ["-HUP", pid.ToString(CultureInfo.InvariantCulture)])).ExitCode);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var watcher = new FileSystemWatcher(Path.GetDirectoryName(log)!, Path.GetFileName(log)) { EnableRaisingEvents = true };
        while (CountReloads(log) == before)
        {
            // Note: woken by the log's growth; the timeout only bounds a daemon that never answers.
            Task changed = Task.Run(() => watcher.WaitForChanged(WatcherChangeTypes.Changed, 1000), timeout.Token);
            await changed.WaitAsync(timeout.Token);
        }
    }

    private static int CountReloads(string log) => LabLog.CountLines(log, " reloaded: ");
}
