using Respaldo.Continuity;

namespace Respaldo.Tests.Continuity;

/// <summary>The MTA-STS policy's text (RFC 8461 §3.2) and its mx: patterns (§4.1).</summary>
public sealed class MtaStsPolicyTests
{
    [Fact]
    public void APolicyWithCrlfLinesAndSeveralMxLinesIsRead()
    {
        MtaStsPolicy? policy = MtaStsPolicy.Parse("version: STSv1\r\nmode: enforce\r\nmx: mail.suempresa.es\r\nmx: *.Respaldo.example\r\nmax_age: 604800\r\n", out string error);
        Assert.Equal("", error);
        Assert.NotNull(policy);
        Assert.Equal(MtaStsMode.Enforce, policy.Mode);
        Assert.Equal(["mail.suempresa.es", "*.respaldo.example"], policy.Mx);
        Assert.Equal(604800, policy.MaxAge);
    }

    [Fact]
    public void LfLinesUnknownKeysAndSpacesAreAccepted()
    {
        MtaStsPolicy? policy = MtaStsPolicy.Parse("version:STSv1\nmode:   testing\nextension: x\nmx: mail.suempresa.es\nmax_age: 86400", out _);
        Assert.Equal(MtaStsMode.Testing, policy?.Mode);
    }

    [Fact]
    public void ModeNoneNeedsNoMxLine() =>
        Assert.Equal(MtaStsMode.None, MtaStsPolicy.Parse("version: STSv1\nmode: none\nmax_age: 86400\n", out _)?.Mode);

    [Theory]
    [InlineData("mode: enforce\nmx: a.example\nmax_age: 1", "no \"version: STSv1\" line")]
    [InlineData("version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1", "version \"STSv2\", not STSv1")]
    [InlineData("version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1", "mode \"strict\" is none of enforce, testing, none")]
    [InlineData("version: STSv1\nmode: enforce\nmx: a.example", "no \"max_age:\" line")]
    [InlineData("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -5", "max_age \"-5\" is not a number of seconds up to 31557600")]
    [InlineData("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601", "max_age \"31557601\" is not a number of seconds up to 31557600")]
    [InlineData("version: STSv1\nmode: enforce\nmax_age: 86400", "no \"mx:\" line")]
    [InlineData("<html>Not found</html>", "the line \"<html>Not found</html>\" is not \"key: value\"")]
    public void WhatSendersWouldRejectIsSaid(string body, string expected)
    {
        Assert.Null(MtaStsPolicy.Parse(body, out string error));
        Assert.Equal(expected, error);
    }

    [Theory]
    [InlineData("mail-backup.suempresa.es", "mail-backup.suempresa.es", true)]
    [InlineData("MAIL-BACKUP.suempresa.es", "mail-backup.suempresa.es", true)]
    [InlineData("*.suempresa.es", "mail-backup.suempresa.es", true)]
    [InlineData("*.suempresa.es", "a.mail-backup.suempresa.es", false)]
    [InlineData("*.suempresa.es", "suempresa.es", false)]
    [InlineData("mail.suempresa.es", "mail-backup.suempresa.es", false)]
    public void AWildcardMatchesExactlyOneLeftmostLabel(string pattern, string host, bool matches) =>
        Assert.Equal(matches, MtaStsPolicy.Matches(pattern, host));
}
