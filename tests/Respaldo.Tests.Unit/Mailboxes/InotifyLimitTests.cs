using Respaldo.Mailboxes;

namespace Respaldo.Tests.Mailboxes;

public sealed class InotifyLimitTests
{
    [Fact]
    public void CountsTheRootEachDomainAndEachMailboxWithItsThreeSubdirectories() =>
        Assert.Equal(1 + 2 + (4 * 100_000L), InotifyLimit.WatchesFor(domains: 2, mailboxes: 100_000));

    [Fact]
    public void KnowsTheWatchersErrorForTheCeilingFromAnyOther()
    {
        // Note: .NET's FileSystemWatcher carries inotify_add_watch's errno as the HResult (ENOSPC, 28).
        Assert.True(InotifyLimit.IsReached(new IOException("The configured user limit (8192) on the number of inotify watches has been reached", 28)));
        Assert.False(InotifyLimit.IsReached(new IOException("queue overflow")));
        Assert.False(InotifyLimit.IsReached(new InvalidOperationException("x")));
    }

    [Fact]
    public void ReadsTheCeilingAndSaysNothingWhenItCannot()
    {
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "192540\n");
            Assert.Equal(192_540, InotifyLimit.Read(file));
            File.WriteAllText(file, "lots\n");
            Assert.Null(InotifyLimit.Read(file));
        }
        finally
        {
            File.Delete(file);
        }
        Assert.Null(InotifyLimit.Read("/nonexistent/max_user_watches"));
    }
}
