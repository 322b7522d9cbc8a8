using System.Text;
using Respaldo.Storage;

namespace Respaldo.Tests.Storage;

public sealed class AtomicFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("respaldo-atomic-").FullName;
    private const UnixFileMode Mode644 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

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
        const UnixFileMode Mode640 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;
        Assert.True(AtomicFile.WriteIfChanged(path, "x\n"u8, Mode640));
        Assert.Equal(Mode640, File.GetUnixFileMode(path));
    }
}
