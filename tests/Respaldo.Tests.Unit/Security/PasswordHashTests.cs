using Respaldo.Security;

namespace Respaldo.Tests.Security;

public sealed class PasswordHashTests
{
    [Fact]
    public void VerifiesWhatItCreates()
    {
        string hash = PasswordHash.Create("correct horse", cost: 4);
        Assert.StartsWith("{BLF-CRYPT}$2y$04$", hash, StringComparison.Ordinal);
        Assert.True(PasswordHash.Verify("correct horse", hash));
        Assert.False(PasswordHash.Verify("correct hors", hash));
        Assert.False(PasswordHash.Verify("", hash));
    }

    [Fact]
    public void RefusesHashesOfOtherSchemes() =>
        Assert.False(PasswordHash.Verify("x", "{PLAIN}x"));
}
