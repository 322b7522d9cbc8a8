using System.Text;
using Respaldo.HandOver;
using Respaldo.Mailboxes;

namespace Respaldo.Tests.HandOver;

public sealed class TraceHeadersTests
{
    private const string Lmtp =
        "Received: from mail-backup.suempresa.test ([127.0.0.1])\n" +
        "\tby mail-backup.suempresa.test with LMTP\n" +
        "\tid 6HhYNw/QCWutGgAAg+zDdQ\n" +
        "\t(envelope-from <a@example.org>)\n" +
        "\tfor <juan@norte.suempresa.test>; Fri, 27 Nov 2026 18:46:39 +0000\n";

    private const string Smtpd =
        "Received: from vm (unknown [127.0.0.1])\n" +
        "\tby mail-backup.suempresa.test (Postfix) with ESMTP id DDA4CB1E023;\n" +
        "\tFri, 27 Nov 2026 18:46:39 +0000 (UTC)\n";

    private static TraceHeaders.Result Parse(string s) => TraceHeaders.Parse(Encoding.UTF8.GetBytes(s));

    [Fact]
    public void StripsExactlyTheThreeHeadersDovecotPrepended()
    {
        string rest = Smtpd + "Subject: x\n\nbody\n";
        string stored = "Return-Path: <a@example.org>\nDelivered-To: juan@norte.suempresa.test\n" + Lmtp + rest;
        TraceHeaders.Result r = Parse(stored);
        Assert.Equal("a@example.org", r.Sender);
        Assert.Equal("juan@norte.suempresa.test", r.Recipient);
        Assert.True(r.ViaLmtp);
        Assert.Equal(rest, stored[r.Length..]);
    }

    [Fact]
    public void KeepsTheNullSenderAsEmpty()
    {
        TraceHeaders.Result r = Parse("Return-Path: <>\nDelivered-To: info@suempresa.test\n" + Lmtp + "\nbody\n");
        Assert.Equal("", r.Sender);
    }

    [Fact]
    public void LeavesForgedTraceHeadersFurtherDownAlone()
    {
        string rest = Smtpd + "Return-Path: <forged@evil.example>\nDelivered-To: someone@else.example\nSubject: x\n\nb\n";
        string stored = "Return-Path: <real@example.org>\nDelivered-To: info@suempresa.test\n" + Lmtp + rest;
        TraceHeaders.Result r = Parse(stored);
        Assert.Equal("real@example.org", r.Sender);
        Assert.Equal("info@suempresa.test", r.Recipient);
        Assert.Equal(rest, stored[r.Length..]);
    }

    [Fact]
    public void AReceivedLineThatIsNotDovecotsLmtpStays()
    {
        string rest = Smtpd + "\nbody\n";
        string stored = "Return-Path: <a@example.org>\nDelivered-To: info@suempresa.test\n" + rest;
        TraceHeaders.Result r = Parse(stored);
        Assert.Equal(rest, stored[r.Length..]);
    }

    [Fact]
    public void WithoutDeliveredToTheRecipientIsUnknownButReturnPathStillGoes()
    {
        string rest = Smtpd + "\nbody\n";
        string stored = "Return-Path: <a@example.org>\n" + Lmtp + rest;
        TraceHeaders.Result r = Parse(stored);
        Assert.Null(r.Recipient);
        Assert.False(r.ViaLmtp);
        Assert.Equal(rest, stored[r.Length..]);
    }

    [Theory]
    [InlineData("Subject: no trace\n\nbody\n")]
    [InlineData("")]
    [InlineData("Return-Path: a@example.org\n\nno angle brackets\n")]
    [InlineData("X-Return-Path: <a@example.org>\n\n")]
    public void WithoutAReturnPathAtTheTopNothingIsStripped(string stored)
    {
        TraceHeaders.Result r = Parse(stored);
        Assert.Null(r.Sender);
        Assert.Equal(0, r.Length);
    }

    [Fact]
    public void KeepsUtf8AddressesIntact()
    {
        TraceHeaders.Result r = Parse("Return-Path: <josé@ejemplo.es>\nDelivered-To: info@suempresa.test\n" + Lmtp + "\nb\n");
        Assert.Equal("josé@ejemplo.es", r.Sender);
    }
}
