using Respaldo.Configuration;

namespace Respaldo.Tests.Configuration;

public sealed class DomainPatternTests
{
    private static DomainPattern P(string text)
    {
        Assert.True(DomainPattern.TryParse(text, out DomainPattern p, out string error), error);
        return p;
    }

    [Fact]
    public void AWildcardDoesNotMatchItsApex()
    {
        Assert.False(P("*.example.com").Matches("example.com"));
        Assert.True(P("*.example.com").Matches("a.example.com"));
        Assert.True(P("*.EXAMPLE.com").Matches("B.A.example.COM"));
    }

    [Theory]
    [InlineData("example.com", "example.com", true)]
    [InlineData("example.com", "*.example.com", false)]
    [InlineData("a.example.com", "*.example.com", true)]
    [InlineData("*.a.example.com", "*.example.com", true)]
    [InlineData("*.example.org", "*.example.com", false)]
    [InlineData("*.ample.com", "*.example.com", false)]
    public void OverlapIsSymmetric(string a, string b, bool overlaps)
    {
        Assert.Equal(overlaps, P(a).Overlaps(P(b)));
        Assert.Equal(overlaps, P(b).Overlaps(P(a)));
    }

    [Fact]
    public void NormalizesCaseAndTrailingDot() => Assert.Equal(new DomainPattern("example.com", false), P("Example.COM."));
}
