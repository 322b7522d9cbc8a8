using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Respaldo.Tests.ChaosLab;

namespace Respaldo.Tests.FullDisk;

/// <summary>
/// A chaos lab whose maildirs live on a small file system of their own: a tmpfs of
/// <see cref="SizeMiB"/> MiB mounted by the test on the lab's maildir root before the lab starts
/// (needs root, as the lab does). The storage allocation stays large, so what fills up is the
/// disk itself; the floor the front door keeps free (storage.minimumFree) is
/// <see cref="MinimumFreeMiB"/> MiB. Unmounted once the lab is down.
/// </summary>
public sealed class FullDiskLabFixture : ChaosLabFixture
{
    public const int SizeMiB = 40;
    public const int MinimumFreeMiB = 8;

    private bool _mounted;

    public FullDiskLabFixture() : base("fulldisk")
    {
    }

    public string MaildirRoot => Path.Combine(Directory, "state", "maildirs");

    protected override void ConfigureMore(JsonObject config)
    {
        config["storage"] = new JsonObject
        {
            ["allocation"] = "4GiB",
            ["minimumFree"] = string.Create(CultureInfo.InvariantCulture, $"{MinimumFreeMiB}MiB"),
        };
        System.IO.Directory.CreateDirectory(MaildirRoot);
        Run("mount", "-t", "tmpfs", "-o", string.Create(CultureInfo.InvariantCulture, $"size={SizeMiB}m,mode=0755"), "respaldo-fulldisk", MaildirRoot);
        _mounted = true;
    }

    public override async Task DisposeAsync()
    {
        if (_mounted && Environment.GetEnvironmentVariable("KEEP_LAB") != "1")
        {
            // Dovecot and the controller keep files open on it: everything stops first.
            await RunLabAsync("down", check: false);
            if (Run("umount", MaildirRoot) != 0)
            {
                Run("umount", "-l", MaildirRoot);
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
