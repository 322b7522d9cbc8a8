using System.Text;
using Respaldo.Tests.Lab;
using Xunit.Abstractions;

namespace Respaldo.Tests.Intake;

/// <summary>
/// The backup's front door, through real SMTP against the lab's real Postfix and Dovecot:
/// what is accepted lands in its mailbox with its envelope, what is not is refused at RCPT.
/// The primary is kept down so that stored mail stays where these tests look for it.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class IntakeTests(LabFixture lab, ITestOutputHelper output) : IAsyncLifetime
{
    public async Task InitializeAsync() => await lab.RunLabAsync("primary-down");

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<SmtpTestClient> ConnectAsync()
    {
        SmtpTestClient client = await SmtpTestClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port);
        Assert.Equal(220, client.Greeting.Code);
        Assert.Equal(250, (await client.CommandAsync("EHLO sender.example.org")).Code);
        return client;
    }

    /// <summary>Waits for Postfix → LMTP → Dovecot to store the message whose Subject is given.</summary>
    private static async Task<string> WaitForStoredAsync(Func<IEnumerable<string>> files, string subject, int count = 1)
    {
        for (int i = 0; i < 200; i++)
        {
            List<string> found = files().Where(f => File.ReadAllText(f).Contains($"Subject: {subject}\n", StringComparison.Ordinal)).ToList();
            if (found.Count >= count)
            {
                Assert.Equal(count, found.Count);
                return File.ReadAllText(found[0]);
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"message '{subject}' was not stored");
    }

    [Theory]
    [InlineData("info@suempresa.test")]
    [InlineData("juan@norte.suempresa.test")]
    public async Task StoresMailForAListedMailboxWithItsEnvelope(string address)
    {
        string subject = TestMessages.Unique("stored");
        await using (SmtpTestClient client = await ConnectAsync())
        {
            SmtpReply reply = await client.SendAsync("sender@example.org", [address], TestMessages.Plain(subject, address));
            Assert.True(reply.Code == 250, reply.Text);
        }
        string stored = await WaitForStoredAsync(() => lab.BackupMessages(address), subject);
        string[] lines = stored.Split('\n');
        Assert.Equal("Return-Path: <sender@example.org>", lines[0]);
        Assert.Equal($"Delivered-To: {address}", lines[1]);
        Assert.StartsWith("Received: from ", lines[2], StringComparison.Ordinal);
        Assert.Contains("with LMTP", stored, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoresOneCopyPerRecipientEachWithItsOwnDeliveredTo()
    {
        string subject = TestMessages.Unique("three");
        string[] recipients = ["info@suempresa.test", "ventas@suempresa.test", "juan@norte.suempresa.test"];
        // Note: juan is only in the envelope (a Bcc): the To: header names info alone.
        await using (SmtpTestClient client = await ConnectAsync())
        {
            SmtpReply reply = await client.SendAsync("", recipients, TestMessages.Plain(subject, "info@suempresa.test, ventas@suempresa.test"));
            Assert.True(reply.Code == 250, reply.Text);
        }
        foreach (string rcpt in recipients)
        {
            string stored = await WaitForStoredAsync(() => lab.BackupMessages(rcpt), subject);
            string[] lines = stored.Split('\n');
            Assert.Equal("Return-Path: <>", lines[0]);
            Assert.Equal($"Delivered-To: {rcpt}", lines[1]);
            Assert.Single(lines, l => l.StartsWith("Delivered-To:", StringComparison.Ordinal));
        }
        string bccCopy = await WaitForStoredAsync(() => lab.BackupMessages("juan@norte.suempresa.test"), subject);
        Assert.DoesNotContain("juan@norte.suempresa.test", bccCopy.Split("\n\n", 2)[0].Split('\n').Where(l => l.StartsWith("To:", StringComparison.Ordinal)).Single(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nadie@suempresa.test")]
    [InlineData("nadie@norte.suempresa.test")]
    [InlineData("info@sur.suempresa.test")]
    public async Task RefusesAnUnknownRecipientAtRcptWith550(string address)
    {
        await using SmtpTestClient client = await ConnectAsync();
        Assert.Equal(250, (await client.CommandAsync("MAIL FROM:<sender@example.org>")).Code);
        SmtpReply reply = await client.CommandAsync($"RCPT TO:<{address}>");
        Assert.True(reply.Code == 550, reply.Text);
    }

    [Fact]
    public async Task RefusesEveryAttemptOfTheOpenRelayBattery()
    {
        IReadOnlyList<RelayBattery.Attempt> attempts = RelayBattery.For("suempresa.test", "norte.suempresa.test");
        Assert.True(attempts.Count >= 20);
        IReadOnlyList<RelayBattery.Outcome> outcomes = await RelayBattery.RunAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port, attempts, output);
        Assert.All(outcomes, o => Assert.True(o.Refused, $"{o.Attempt.Name}: RCPT TO:<{o.Attempt.Recipient}> got {o.Reply}"));
    }

    [Fact]
    public async Task RefusesADeclaredOversizeMessageAtMailWith552()
    {
        await using SmtpTestClient client = await ConnectAsync();
        SmtpReply reply = await client.CommandAsync("MAIL FROM:<sender@example.org> SIZE=999999999");
        Assert.True(reply.Code == 552, reply.Text);
    }

    [Fact]
    public async Task RefusesAnOversizeMessageAtTheEndOfDataWith552()
    {
        // Note: the lab's limit is 60 MiB; this one is just over it and does not declare SIZE.
        var body = new StringBuilder("From: a@example.org\nTo: info@suempresa.test\nSubject: huge\n\n");
        string line = new string('x', 998) + "\n";
        while (body.Length < (61L << 20))
        {
            body.Append(line);
        }
        await using SmtpTestClient client = await ConnectAsync();
        SmtpReply reply = await client.SendAsync("sender@example.org", ["info@suempresa.test"], Encoding.ASCII.GetBytes(body.ToString()));
        Assert.True(reply.Code == 552, reply.Text);
    }
}
