using System.Globalization;
using Respaldo.Tests.Lab;

namespace Respaldo.Bench;

/// <summary>
/// Memory and CPU of one process, as the kernel counts them: /proc/PID/status (VmRSS now,
/// VmHWM the peak since start or since the peak was reset) and /proc/PID/stat (utime and
/// stime, in clock ticks). See proc(5).
/// </summary>
public sealed class ProcessMeter
{
    private readonly int _pid;
    private readonly long _ticksPerSecond;

    private ProcessMeter(int pid, long ticksPerSecond)
    {
        _pid = pid;
        _ticksPerSecond = ticksPerSecond;
    }

    public static async Task<ProcessMeter> OpenAsync(int pid)
    {
        // Note: utime/stime count in USER_HZ ticks, which getconf reports as CLK_TCK.
        ProcessRunner.Result r = await ProcessRunner.RunAsync("getconf", ["CLK_TCK"]);
        long ticks = r.ExitCode == 0 && long.TryParse(r.Output.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long t) ? t : 100;
        var meter = new ProcessMeter(pid, ticks);
        _ = meter.RssBytes; // fails now, not later, if the process is not there
        return meter;
    }

    public int Pid => _pid;

    public long RssBytes => StatusKb("VmRSS") * 1024;

    public long PeakRssBytes => StatusKb("VmHWM") * 1024;

    /// <summary>
    /// Resets VmHWM to the current RSS (proc(5), /proc/PID/clear_refs, value 5; Linux 4.0+), so a
    /// later peak belongs to what happened after. False when the kernel refuses.
    /// </summary>
    public bool ResetPeak()
    {
        try
        {
            File.WriteAllText($"/proc/{_pid}/clear_refs", "5");
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>CPU time used so far, user plus system.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            string stat = File.ReadAllText($"/proc/{_pid}/stat");
            // Note: the command name (field 2) may hold spaces; the fields after its ')' are
            // state (3), ..., utime (14), stime (15).
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            long ticks = long.Parse(fields[14 - 3], CultureInfo.InvariantCulture) + long.Parse(fields[15 - 3], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds((double)ticks / _ticksPerSecond);
        }
    }

    public bool Alive => File.Exists($"/proc/{_pid}/status");

    private long StatusKb(string key)
    {
        foreach (string line in File.ReadLines($"/proc/{_pid}/status"))
        {
            if (line.StartsWith(key + ":", StringComparison.Ordinal))
            {
                return long.Parse(line[(key.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }
        throw new InvalidOperationException($"/proc/{_pid}/status has no {key}");
    }
}
