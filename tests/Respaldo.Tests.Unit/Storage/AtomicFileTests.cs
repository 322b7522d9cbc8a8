using System.Text;
using Respaldo.Storage;

namespace Respaldo.Tests.Storage;

public sealed class AtomicFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("respaldo-atomic-").FullName;
    private const UnixFileMode Mode644 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode Mode640 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;

    public void Dispose()
    {
        Directory.Delete(_dir, recursive: true);
        foreach (string d in _cleanup)
        {
            Directory.Delete(d, recursive: true);
        }
    }

    [Fact]
    public void WritesOnceAndLeavesAnUnchangedFileAlone()
    {
        string path = Path.Combine(_dir, "main.cf");
        Assert.True(AtomicFile.WriteIfChanged(path, "a = b\n"u8, Mode644));
        var before = new FileInfo(path);
        DateTime written = before.LastWriteTimeUtc;
        Thread.Sleep(20);
        Assert.False(AtomicFile.WriteIfChanged(path, "a = b\n"u8, Mode644));
        Assert.Equal(written, new FileInfo(path).LastWriteTimeUtc);
        Assert.Equal(Mode644, File.GetUnixFileMode(path));
    }

    [Fact]
    public void ReplacesByRenameAndLeavesNoTemporaryFile()
    {
        string path = Path.Combine(_dir, "main.cf");
        AtomicFile.Write(path, "old\n"u8, Mode644);
        // Note: a reader holding the old file keeps reading the old content: the new file is a
        // new inode renamed over the name, never a rewrite in place.
        using var reader = new FileStream(path, FileMode.Open, FileAccess.Read);
        Assert.True(AtomicFile.WriteIfChanged(path, "new\n"u8, Mode644));
        var buffer = new byte[4];
        Assert.Equal(4, reader.Read(buffer));
        Assert.Equal("old\n", Encoding.ASCII.GetString(buffer));
        Assert.Equal("new\n", File.ReadAllText(path));
        Assert.Equal(["main.cf"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void AppliesTheModeEvenWhenOnlyTheModeDiffers()
    {
        string path = Path.Combine(_dir, "passwd");
        AtomicFile.Write(path, "x\n"u8, Mode644);

        Assert.True(AtomicFile.WriteIfChanged(path, "x\n"u8, Mode640));
        Assert.Equal(Mode640, File.GetUnixFileMode(path));
    }

    /// <summary>Issue 16: a symlink planted at the temporary name earlier versions used (".NAME.tmpPID", predictable).</summary>
    [Fact]
    public void ASymlinkAtThePredictableTemporaryNameIsNotFollowed()
    {
        (string outside, var before) = PreciousOutside();
        string path = Path.Combine(_dir, "passwd");
        File.CreateSymbolicLink(Path.Combine(_dir, $".passwd.tmp{Environment.ProcessId}"), outside);

        AtomicFile.Write(path, "new\n"u8, Mode644);

        Assert.Equal(before, Look(outside));
        Assert.Equal("new\n", File.ReadAllText(path));
        Assert.Null(new FileInfo(path).LinkTarget);
    }

    [Fact]
    public void ASymlinkAtTheTargetIsReplacedNotWrittenThrough()
    {
        (string outside, var before) = PreciousOutside();
        string path = Path.Combine(_dir, "passwd");
        File.CreateSymbolicLink(path, outside);

        Assert.True(AtomicFile.WriteIfChanged(path, "new\n"u8, Mode644));

        Assert.Equal(before, Look(outside));
        Assert.Equal("new\n", File.ReadAllText(path));
        Assert.Null(new FileInfo(path).LinkTarget);
    }

    [Fact]
    public void ASymlinkAtTheTargetPointingToIdenticalContentStillCountsAsChanged()
    {
        (string outside, var before) = PreciousOutside();
        string path = Path.Combine(_dir, "passwd");
        File.CreateSymbolicLink(path, outside);

        Assert.True(AtomicFile.WriteIfChanged(path, Encoding.ASCII.GetBytes(before.Content), Mode644));

        Assert.Equal(before, Look(outside));
        Assert.Null(new FileInfo(path).LinkTarget);
    }

    [Fact]
    public void GivesTheFileItsOwnerAndModeOnTheDescriptor()
    {
        Assert.True(Mono.Unix.Native.Syscall.getuid() == 0, "chown needs root: run the unit tier as root (make test-unit)");
        using DirectoryHandle directory = DirectoryHandle.Open(_dir);
        AtomicFile.Write(directory, "owned", "x\n"u8, Mode640, new FileOwner(64123, 64124));
        (_, uint mode, uint uid, uint gid) = Look(Path.Combine(_dir, "owned"));
        Assert.Equal((64123u, 64124u, 0x1A0u), (uid, gid, mode & 0xFFF));
        Assert.False(AtomicFile.WriteIfChanged(directory, "owned", "x\n"u8, Mode640, new FileOwner(64123, 64124)));
        Assert.True(AtomicFile.WriteIfChanged(directory, "owned", "x\n"u8, Mode640, new FileOwner(0, 0)));
    }

    private (string Path, (string Content, uint Mode, uint Uid, uint Gid) Before) PreciousOutside()
    {
        string outsideDir = Directory.CreateTempSubdirectory("respaldo-outside-").FullName;
        _cleanup.Add(outsideDir);
        string outside = Path.Combine(outsideDir, "shadow");
        File.WriteAllText(outside, "root:precious\n");
        File.SetUnixFileMode(outside, UnixFileMode.UserRead);
        return (outside, Look(outside));
    }

    private readonly List<string> _cleanup = [];

    private static (string Content, uint Mode, uint Uid, uint Gid) Look(string path)
    {
        Assert.Equal(0, Mono.Unix.Native.Syscall.lstat(path, out Mono.Unix.Native.Stat st));
        return (File.ReadAllText(path), (uint)st.st_mode, st.st_uid, st.st_gid);
    }
}
