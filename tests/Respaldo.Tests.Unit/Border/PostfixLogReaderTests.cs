using Respaldo.Border;

namespace Respaldo.Tests.Border;

public sealed class PostfixLogReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("respaldo-logreader-").FullName;

    private string Log => Path.Combine(_dir, "postfix.log");

    private string Position => Path.Combine(_dir, "state", "position");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void AFirstStartCountsOnlyWhatComesAfterIt()
    {
        File.WriteAllText(Log, "old line\n");
        var reader = new PostfixLogReader(Log, Position);
        Assert.Empty(reader.ReadNew());
        File.AppendAllText(Log, "new line\n");
        Assert.Equal(["new line"], reader.ReadNew());
    }

    [Fact]
    public void ALineStillBeingWrittenWaitsForItsNewline()
    {
        File.WriteAllText(Log, "");
        var reader = new PostfixLogReader(Log, Position);
        Assert.Empty(reader.ReadNew());
        File.AppendAllText(Log, "a\nhalf");
        Assert.Equal(["a"], reader.ReadNew());
        File.AppendAllText(Log, " done\n");
        Assert.Equal(["half done"], reader.ReadNew());
    }

    [Fact]
    public void ARestartResumesWhereTheSavedPositionIs()
    {
        File.WriteAllText(Log, "");
        var first = new PostfixLogReader(Log, Position);
        Assert.Empty(first.ReadNew());
        File.AppendAllText(Log, "one\n");
        Assert.Equal(["one"], first.ReadNew());
        first.SavePosition();
        File.AppendAllText(Log, "two\n");
        var second = new PostfixLogReader(Log, Position);
        Assert.Equal(["two"], second.ReadNew());
    }

    [Fact]
    public void ARotatedOrTruncatedLogIsReadFromItsStart()
    {
        File.WriteAllText(Log, "");
        var reader = new PostfixLogReader(Log, Position);
        Assert.Empty(reader.ReadNew());
        File.AppendAllText(Log, "before rotation, long enough\n");
        Assert.Single(reader.ReadNew());
        File.Move(Log, Log + ".1");
        File.WriteAllText(Log, "after\n");
        Assert.Equal(["after"], reader.ReadNew());
        File.WriteAllText(Log, "");
        Assert.Empty(reader.ReadNew());
        File.AppendAllText(Log, "x\n");
        Assert.Equal(["x"], reader.ReadNew());
    }
}
