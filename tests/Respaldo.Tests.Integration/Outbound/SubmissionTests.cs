using System.Text;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Outbound;

/// <summary>
/// The backup's one way out (alerts, bounces, later the webmail): the loopback submission
/// service. Without a login it takes nothing; a mailbox's login sends only as itself and never
/// with the null sender; the controller's own login may. Against the lab's real Postfix + Dovecot.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class SubmissionTests(LabFixture lab)
{
    private (string Host, int Port) Submission
    {
        get
        {
            string[] p = lab["SUBMISSION"].Split(':');
            return (p[0], int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    private async Task<SmtpTestClient> ConnectAsync(string? user = null, string? password = null)
    {
        SmtpTestClient client = await SmtpTestClient.ConnectAsync(Submission.Host, Submission.Port);
        Assert.Equal(250, (await client.CommandAsync("EHLO client.example.org")).Code);
        if (user is not null)
        {
            string plain = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{user}\0{password}"));
            SmtpReply auth = await client.CommandAsync($"AUTH PLAIN {plain}");
            Assert.True(auth.Code == 235, auth.Text);
        }
        return client;
    }

    [Theory]
    [InlineData("someone@example.org", "victim@example.net")]
    [InlineData("someone@example.org", "it@external.test")]
    [InlineData("", "victim@example.net")]
    public async Task WithoutALoginNothingIsRelayed(string from, string to)
    {
        await using SmtpTestClient client = await ConnectAsync();
        SmtpReply reply = await client.SendAsync(from, [to], Encoding.ASCII.GetBytes("Subject: relay?\n\nno\n"));
        Assert.True(reply.Code is >= 500 and < 600, $"{from} -> {to}: {reply}");
    }

    [Fact]
    public async Task AWrongPasswordIsRefused()
    {
        await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(Submission.Host, Submission.Port);
        await client.CommandAsync("EHLO client.example.org");
        SmtpReply auth = await client.CommandAsync("AUTH PLAIN " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{lab["WEBMAIL_USER"]}\0wrong")));
        Assert.Equal(535, auth.Code);
    }

    [Theory]
    [InlineData("ventas@suempresa.test")]
    [InlineData("boss@example.org")]
    [InlineData("")]
    public async Task AMailboxSendsOnlyAsItself(string from)
    {
        await using SmtpTestClient client = await ConnectAsync(lab["WEBMAIL_USER"], lab["WEBMAIL_PASSWORD"]);
        SmtpReply mail = await client.CommandAsync($"MAIL FROM:<{from}>");
        SmtpReply rcpt = mail.Code == 250 ? await client.CommandAsync("RCPT TO:<it@external.test>") : mail;
        Assert.True(rcpt.Code is >= 500 and < 600, $"MAIL FROM:<{from}> as {lab["WEBMAIL_USER"]}: {rcpt}");
    }

    [Fact]
    public async Task AMailboxSendsAsItselfToTheOutsideWorld()
    {
        await using SmtpTestClient client = await ConnectAsync(lab["WEBMAIL_USER"], lab["WEBMAIL_PASSWORD"]);
        string subject = TestMessages.Unique("out");
        SmtpReply reply = await client.SendAsync(lab["WEBMAIL_USER"], ["it@external.test"], TestMessages.Plain(subject, "it@external.test"));
        Assert.True(reply.Code == 250, reply.Text);
        await WaitAtExternalAsync(subject);
    }

    [Fact]
    public async Task TheControllersOwnLoginMaySendWithTheNullSender()
    {
        string password = (await File.ReadAllTextAsync(Path.Combine(lab["STATE_DIR"], "secrets", "submission.password"))).Trim();
        await using SmtpTestClient client = await ConnectAsync("respaldo-alerts", password);
        string subject = TestMessages.Unique("dsn");
        SmtpReply reply = await client.SendAsync("", ["it@external.test"], TestMessages.Plain(subject, "it@external.test"));
        Assert.True(reply.Code == 250, reply.Text);
        string stored = await WaitAtExternalAsync(subject);
        Assert.StartsWith("Return-Path: <>", stored, StringComparison.Ordinal);
    }

    /// <summary>
    /// Issue 16, item 11: the controller's login may send as the backup and with the null
    /// sender, nothing else. Before, its password (on disk, readable by the daemon's user)
    /// let whoever read it send as any tenant's address or anyone's.
    /// </summary>
    [Theory]
    [InlineData("info@suempresa.test")]
    [InlineData("ceo@example.org")]
    [InlineData("respaldo@suempresa.test")]
    [InlineData("other@mail-backup.suempresa.test")]
    public async Task AStolenServiceLoginCannotSendAsAnotherAddress(string from)
    {
        string password = (await File.ReadAllTextAsync(Path.Combine(lab["STATE_DIR"], "secrets", "submission.password"))).Trim();
        await using SmtpTestClient client = await ConnectAsync("respaldo-alerts", password);
        SmtpReply mail = await client.CommandAsync($"MAIL FROM:<{from}>");
        SmtpReply rcpt = mail.Code == 250 ? await client.CommandAsync("RCPT TO:<it@external.test>") : mail;
        Assert.True(rcpt.Code is >= 500 and < 600, $"MAIL FROM:<{from}> as respaldo-alerts: {rcpt}");
    }

    [Fact]
    public async Task TheControllersOwnLoginSendsAsTheBackup()
    {
        string password = (await File.ReadAllTextAsync(Path.Combine(lab["STATE_DIR"], "secrets", "submission.password"))).Trim();
        await using SmtpTestClient client = await ConnectAsync("respaldo-alerts", password);
        string subject = TestMessages.Unique("alert");
        SmtpReply reply = await client.SendAsync("respaldo@mail-backup.suempresa.test", ["it@external.test"], TestMessages.Plain(subject, "it@external.test"));
        Assert.True(reply.Code == 250, reply.Text);
        await WaitAtExternalAsync(subject);
    }

    private async Task<string> WaitAtExternalAsync(string subject)
    {
        for (int i = 0; i < 300; i++)
        {
            foreach (string f in LabFixture.Messages(lab["EXTERNAL_MAILDIRS"], "it@external.test"))
            {
                string text = await File.ReadAllTextAsync(f);
                if (text.Contains($"Subject: {subject}\n", StringComparison.Ordinal))
                {
                    return text;
                }
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"'{subject}' did not reach it@external.test");
    }
}
