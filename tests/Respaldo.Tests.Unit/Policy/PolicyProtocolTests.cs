using System.Text;
using Respaldo.Policy;

namespace Respaldo.Tests.Policy;

public sealed class PolicyProtocolTests
{
    private const string Request =
        "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nclient_address=192.0.2.7\n" +
        "sender=a@example.org\nrecipient=info@suempresa.test\ninstance=1a2b.3c4d.0\nsize=12345\nccert_subject=\n\n";

    [Fact]
    public async Task ReadsRequestsOneAfterAnotherAndWritesActions()
    {
        var input = new MemoryStream(Encoding.ASCII.GetBytes(Request + Request.Replace("RCPT", "END-OF-MESSAGE", StringComparison.Ordinal)));
        var protocol = new PolicyProtocol(input);
        PolicyRequest? first = await protocol.ReadAsync(CancellationToken.None);
        Assert.NotNull(first);
        Assert.Equal("RCPT", first.ProtocolState);
        Assert.Equal("info@suempresa.test", first.Recipient);
        Assert.Equal(12345, first.Size);
        Assert.Equal("1a2b.3c4d.0", first.Instance);
        Assert.Equal("", first["ccert_subject"]);
        Assert.Equal("END-OF-MESSAGE", (await protocol.ReadAsync(CancellationToken.None))?.ProtocolState);
        Assert.Null(await protocol.ReadAsync(CancellationToken.None));

        var output = new MemoryStream();
        await new PolicyProtocol(output).WriteAsync(PolicyDecision.Defer(450, "4.7.1 use the primary"), CancellationToken.None);
        await new PolicyProtocol(output).WriteAsync(PolicyDecision.Continue, CancellationToken.None);
        Assert.Equal("action=450 4.7.1 use the primary\n\naction=DUNNO\n\n", Encoding.ASCII.GetString(output.ToArray()));
    }

    [Theory]
    [InlineData("request=smtpd_access_policy\nno equals sign\n\n")]
    [InlineData("request=smtpd_access_policy\nrecipient=a@b")]
    public async Task RefusesMalformedRequests(string text)
    {
        var protocol = new PolicyProtocol(new MemoryStream(Encoding.ASCII.GetBytes(text)));
        await Assert.ThrowsAsync<InvalidDataException>(() => protocol.ReadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task RefusesALineLongerThan8KiB()
    {
        var protocol = new PolicyProtocol(new MemoryStream(Encoding.ASCII.GetBytes("recipient=" + new string('a', 9000) + "\n\n")));
        await Assert.ThrowsAsync<InvalidDataException>(() => protocol.ReadAsync(CancellationToken.None));
    }
}
