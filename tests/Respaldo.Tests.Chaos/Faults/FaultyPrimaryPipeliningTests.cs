using System.Text;
using Respaldo.Tests.ChaosLab;
using Respaldo.Tests.Smtp;

namespace Respaldo.Tests.Faults;

/// <summary>
/// The faulty primary itself, with the real primary behind it: a fault at MAIL strikes the
/// message it is staged for, not the one before it. With pipelining across messages (RFC 2920
/// §3.1) a client sends the next MAIL right behind the previous message's final dot; the reply
/// to that dot is owed before the fault, as a real server would have sent it before it broke.
/// When the proxy swallowed it, the fault test saw the previous message delivered twice and the
/// faulted one delivered at its first attempt.
/// </summary>
[Collection(ChaosLabCollection.Name)]
public sealed class FaultyPrimaryPipeliningTests(ChaosLabFixture lab)
{
    [Theory]
    [InlineData(FaultKind.Stall)]
    [InlineData(FaultKind.DropAfterMail)]
    public async Task AFaultAtTheNextMailStillLetsTheReplyToThePreviousDotThrough(FaultKind kind)
    {
        FaultyPrimary proxy = lab.Proxy;
        proxy.Up(faults: false);
        string first = $"pipelined.{Guid.NewGuid():N}@example.org";
        string next = $"pipelined.{Guid.NewGuid():N}@example.org";
        proxy.Force(new FaultPlan(kind, FaultPoint.Mail), next);

        await using ExactSmtpClient client = await ExactSmtpClient.ConnectAsync(proxy.Host, proxy.Port, "selftest.example.org", TimeSpan.FromSeconds(10));
        Assert.True(client.Ready, client.Greeting.ToString());
        Assert.Equal(250, (await client.CommandAsync($"MAIL FROM:<{first}>")).Code);
        Assert.Equal(250, (await client.CommandAsync("RCPT TO:<info@suempresa.test>")).Code);
        Assert.Equal(354, (await client.CommandAsync("DATA")).Code);

        // The end of the data and the next message's MAIL in one write, as a pipelining client sends them.
        SmtpAnswer toTheDot = await client.CommandAsync(
            Encoding.ASCII.GetBytes($"From: <{first}>\r\nSubject: pipelining through the faulty primary\r\n\r\n{kind}\r\n.\r\nMAIL FROM:<{next}>"), "end of data");
        Assert.True(toTheDot.Code == 250, $"the reply to the first message's dot: '{toTheDot}'");

        if (kind == FaultKind.Stall)
        {
            await Assert.ThrowsAsync<TimeoutException>(() => client.ReplyAsync("MAIL", TimeSpan.FromSeconds(2)));
        }
        else
        {
            SmtpAnswer cut;
            try
            {
                cut = await client.ReplyAsync("MAIL");
            }
            catch (IOException e)
            {
                // Note: a reset ends the connection as surely as a close.
                cut = new SmtpAnswer(0, $"(connection closed) {e.Message}", "MAIL");
            }
            Assert.True(cut.Code == 0 && cut.Text.Contains("(connection closed)", StringComparison.Ordinal), $"after the dropped MAIL: '{cut}'");
        }
        Assert.Equal(0, proxy.ForcedPending);
    }
}
