using Mono.Unix.Native;
using Respaldo.HandOver;
using Respaldo.Mailboxes;

namespace Respaldo.Tests.HandOver;

/// <summary>Issue 16: what the hand-over finds at a message's name, classified before anything is read.</summary>
public sealed class MessageFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("respaldo-msgfile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<MessageFileOpening> OpenWithinSecondsAsync(string path) =>
        // Note: a blocking open(2) on a FIFO never returns; bound it so the test fails instead of hanging.
        await Task.Run(() => MessageFile.Open(path)).WaitAsync(TimeSpan.FromSeconds(5));

    [Fact]
    public async Task AFifoWithoutAWriterIsNotAMessageAndOpeningItDoesNotBlock()
    {
        string fifo = Path.Combine(_dir, "1795805100.M1P1.vm,S=300");
        Assert.Equal(0, Syscall.mkfifo(fifo, FilePermissions.S_IRUSR | FilePermissions.S_IWUSR));
        MessageFileOpening opening = await OpenWithinSecondsAsync(fifo);
        Assert.Equal((MessageFileState.NotAMessage, "a FIFO"), (opening.State, opening.Reason));
        Assert.Null(opening.File);
    }

    [Fact]
    public async Task ADirectoryIsNotAMessage()
    {
        string dir = Path.Combine(_dir, "1795805100.M2P1.vm");
        Directory.CreateDirectory(dir);
        MessageFileOpening opening = await OpenWithinSecondsAsync(dir);
        Assert.Equal((MessageFileState.NotAMessage, "a directory"), (opening.State, opening.Reason));
    }

    [Fact]
    public async Task ASymlinkIsNotAMessageEvenWhenItPointsToAReadableFile()
    {
        string target = Path.Combine(_dir, "shadow");
        File.WriteAllText(target, "Return-Path: <a@b.test>\n\nsecret\n");
        string link = Path.Combine(_dir, "1795805100.M3P1.vm");
        File.CreateSymbolicLink(link, target);
        MessageFileOpening opening = await OpenWithinSecondsAsync(link);
        Assert.Equal((MessageFileState.NotAMessage, "a symbolic link"), (opening.State, opening.Reason));
    }

    [Fact]
    public async Task ARegularFileOpensForReading()
    {
        string path = Path.Combine(_dir, "1795805100.M4P1.vm");
        File.WriteAllText(path, "x\n");
        MessageFileOpening opening = await OpenWithinSecondsAsync(path);
        using Microsoft.Win32.SafeHandles.SafeFileHandle file = opening.File!;
        Assert.Equal(MessageFileState.Open, opening.State);
        Assert.Equal(2, RandomAccess.GetLength(file));
    }

    // Note: the tests run as root, and root reads any file whatever its mode: a real EACCES
    // cannot be made here. The seam returns the errno open(2) gives the mail user.
    [Fact]
    public void AFileTheDaemonMayNotReadIsUnreadable()
    {
        MessageFileOpening opening = MessageFile.Open("/nowhere", (_, _) => (-1, Errno.EACCES));
        Assert.Equal(MessageFileState.Unreadable, opening.State);
        Assert.Contains("EACCES", opening.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Errno.ENOENT, MessageFileState.Gone)]
    [InlineData(Errno.ENOTDIR, MessageFileState.Gone)]
    [InlineData(Errno.ELOOP, MessageFileState.NotAMessage)]
    [InlineData(Errno.ENXIO, MessageFileState.NotAMessage)]
    [InlineData(Errno.EACCES, MessageFileState.Unreadable)]
    [InlineData(Errno.EPERM, MessageFileState.Unreadable)]
    [InlineData(Errno.EIO, MessageFileState.Failing)]
    [InlineData(Errno.EMFILE, MessageFileState.Failing)]
    [InlineData(Errno.ENOMEM, MessageFileState.Failing)]
    public void ClassifiesEachOpenError(Errno error, MessageFileState expected) =>
        Assert.Equal(expected, MessageFile.Classify(error));
}
