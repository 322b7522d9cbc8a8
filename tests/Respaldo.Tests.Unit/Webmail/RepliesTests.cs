using Respaldo.Webmail;

namespace Respaldo.Tests.Webmail;

/// <summary>A reply lands in its thread (RFC 5322 §3.6.4) and quotes its original under a "date, sender:" line.</summary>
public sealed class RepliesTests
{
    [Fact]
    public void AReplyToAMessageWithoutReferencesIsThreadedUnderItsInReplyToAndItsMessageId()
    {
        ReplyThread thread = Replies.ThreadUnder("parent@a.test", [], "grand@a.test");
        Assert.Equal("parent@a.test", thread.InReplyTo);
        Assert.Equal(["grand@a.test", "parent@a.test"], thread.References);
    }

    [Fact]
    public void AReplyToAMessageWithReferencesKeepsThemAndAddsTheParentLast()
    {
        // The parent's In-Reply-To is not repeated: its References already hold the thread.
        ReplyThread thread = Replies.ThreadUnder("parent@a.test", ["root@a.test", "grand@a.test"], "grand@a.test");
        Assert.Equal("parent@a.test", thread.InReplyTo);
        Assert.Equal(["root@a.test", "grand@a.test", "parent@a.test"], thread.References);
    }

    [Fact]
    public void AReplyToAMessageWithNeitherReferencesNorInReplyToReferencesOnlyTheParent()
    {
        ReplyThread thread = Replies.ThreadUnder("parent@a.test", [], null);
        Assert.Equal("parent@a.test", thread.InReplyTo);
        Assert.Equal(["parent@a.test"], thread.References);
    }

    [Fact]
    public void AReplyToAMessageWithoutAMessageIdHasNoThreadingHeaders()
    {
        ReplyThread thread = Replies.ThreadUnder(null, ["root@a.test"], "grand@a.test");
        Assert.Null(thread.InReplyTo);
        Assert.Empty(thread.References);
    }

    [Fact]
    public void AMultiLineTextIsQuotedLineByLineUnderTheDateAndSender()
    {
        var date = new DateTimeOffset(2026, 12, 2, 10, 30, 5, TimeSpan.FromHours(1));
        string quoted = Replies.Quote(date, "\"Ana\" <ana@a.test>", "Hola,\r\n\r\nnos vemos.\nAna");
        Assert.Equal(
            "2026-12-02 09:30:05 UTC, \"Ana\" <ana@a.test>:\n" +
            "> Hola,\n" +
            "> \n" +
            "> nos vemos.\n" +
            "> Ana\n",
            quoted);
    }

    [Fact]
    public void AnEmptyTextIsQuotedAsOneEmptyLineAndAnOriginalWithoutDateShowsOnlyTheSender()
    {
        Assert.Equal("ana@a.test:\n> \n", Replies.Quote(null, "ana@a.test", ""));
    }
}
