using Respaldo.Mailboxes;

namespace Respaldo.Tests.Mailboxes;

public sealed class MaildirNameTests
{
    [Fact]
    public void ReadsDovecotsName()
    {
        const string name = "1795805199.M930396P6829.vm,S=719,W=739:2,S";
        Assert.Equal("1795805199.M930396P6829.vm,S=719,W=739", MaildirName.BaseName(name));
        Assert.Equal(719, MaildirName.Size(name));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1795805199).AddTicks(930396 * 10), MaildirName.Arrived(name));
    }

    [Theory]
    [InlineData("strange-name")]
    [InlineData("123.abc")]
    public void FallsBackWhenTheNameSaysNothing(string name)
    {
        Assert.Null(MaildirName.Size(name));
        Assert.Equal(name, MaildirName.BaseName(name));
    }
}
