using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Respaldo.Tests.ChaosLab;

namespace Respaldo.Tests.FullDisk;

/// <summary>
/// A chaos lab whose state directory (maildirs, hold area, journal: one file system, as
/// /var/lib/respaldo is on a server) is a small file system of its own: a tmpfs of
/// <see cref="SizeMiB"/> MiB mounted by the test before the lab starts (needs root, as the lab
/// does). The storage allocation stays large, so what fills up is the disk itself; the floor
/// the front door keeps free (storage.minimumFree) is <see cref="MinimumFreeMiB"/> MiB, and it
/// is what leaves the journal room to record the hand-over that frees the disk. Unmounted once
/// the lab is down.
/// </summary>
public sealed class FullDiskLabFixture : ChaosLabFixture
{
    public const int SizeMiB = 40;
    public const int MinimumFreeMiB = 8;

    private bool _mounted;

    public FullDiskLabFixture() : base("fulldisk")
    {
    }

    public string StateRoot => Path.Combine(Directory, "state");

    protected override void ConfigureMore(JsonObject config)
    {
        config["storage"] = new JsonObject
        {
            ["allocation"] = "4GiB",
            ["minimumFree"] = string.Create(CultureInfo.InvariantCulture, $"{MinimumFreeMiB}MiB"),
        };
        System.IO.Directory.CreateDirectory(StateRoot);
        Run("mount", "-t", "tmpfs", "-o", string.Create(CultureInfo.InvariantCulture, $"size={SizeMiB}m,mode=0755"), "respaldo-fulldisk", StateRoot);
        _mounted = true;
    }

    public override async Task DisposeAsync()
    {
        if (_mounted && Environment.GetEnvironmentVariable("KEEP_LAB") != "1")
        {
            // Dovecot and the controller keep files open on it: everything stops first.
            await RunLabAsync("down", check: false);
            if (Run("umount", StateRoot) != 0)
            {
                Run("umount", "-l", StateRoot);
            }
            _mounted = false;
        }
        await base.DisposeAsync();
    }

    private static int Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }
        using Process p = Process.Start(start)!;
        string error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0 && file == "mount")
        {
            throw new InvalidOperationException($"mount {string.Join(' ', args)}: {error.Trim()} (the full-disk test needs root)");
        }
        return p.ExitCode;
    }
}

[CollectionDefinition(Name)]
public sealed class FullDiskLabCollection : ICollectionFixture<FullDiskLabFixture>
{
    public const string Name = "chaos-fulldisk";
}
