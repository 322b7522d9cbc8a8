using Respaldo.Web;

namespace Respaldo.Tests.Web;

public sealed class StaticAssetSetTests
{
    private static StaticAssetSet Set() => StaticAssetSet.FromResources(typeof(StaticAssetSetTests).Assembly, "static/");

    [Fact]
    public void HoldsTheEmbeddedAssetsWithTheirTypes()
    {
        StaticAssetSet set = Set();
        Assert.Equal(["sample.css", "sample.js"], set.Names.Order(StringComparer.Ordinal));
        Assert.Equal("text/css; charset=utf-8", set.Find("sample.css")!.ContentType);
        Assert.Equal("text/javascript; charset=utf-8", set.Find("sample.js")!.ContentType);
        Assert.NotEmpty(set.Find("sample.css")!.Bytes);
    }

    [Fact]
    public void RandomMissesAreNotFoundAndNotRemembered()
    {
        StaticAssetSet set = Set();
        for (int i = 0; i < 10_000; i++)
        {
            Assert.Null(set.Find($"x{i}.css"));
        }
        Assert.Equal(2, set.Count);
    }
}
