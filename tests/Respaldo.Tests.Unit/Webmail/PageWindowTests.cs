using Respaldo.Webmail;

namespace Respaldo.Tests.Webmail;

public sealed class PageWindowTests
{
    private static readonly int[] Uids = Enumerable.Range(1, 60).ToArray();

    [Fact]
    public void TheFirstPageHoldsTheNewest()
    {
        PageWindow w = PageWindow.For(1, 25, 60);
        Assert.Equal(3, w.Pages);
        Assert.Equal(Enumerable.Range(36, 25).Reverse(), w.Slice(Uids));
        Assert.False(w.HasPrevious);
        Assert.True(w.HasNext);
    }

    [Fact]
    public void TheLastPageHoldsTheRest()
    {
        PageWindow w = PageWindow.For(3, 25, 60);
        Assert.Equal(10, w.Count);
        Assert.Equal(Enumerable.Range(1, 10).Reverse(), w.Slice(Uids));
        Assert.True(w.HasPrevious);
        Assert.False(w.HasNext);
    }

    [Theory]
    [InlineData(null, 1)]
    [InlineData(0, 1)]
    [InlineData(-5, 1)]
    [InlineData(4, 3)]
    [InlineData(int.MaxValue, 3)]
    public void APageOutsideTheListShowsTheNearestOne(int? asked, int shown)
    {
        Assert.Equal(shown, PageWindow.For(asked, 25, 60).Page);
    }

    [Fact]
    public void AnEmptyListIsOneEmptyPage()
    {
        PageWindow w = PageWindow.For(2, 25, 0);
        Assert.Equal(1, w.Page);
        Assert.Equal(1, w.Pages);
        Assert.Equal(0, w.Count);
        Assert.Empty(w.Slice(Array.Empty<int>()));
    }

    [Fact]
    public void AnExactlyFullLastPageIsNotFollowedByAnEmptyOne()
    {
        Assert.Equal(2, PageWindow.For(1, 25, 50).Pages);
        Assert.Equal(25, PageWindow.For(2, 25, 50).Count);
    }
}
