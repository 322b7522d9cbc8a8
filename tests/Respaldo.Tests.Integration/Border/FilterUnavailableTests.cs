using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Border;

/// <summary>
/// rspamd stopped or unreachable: Postfix defers new mail (milter_default_action = tempfail),
/// so nothing is accepted unchecked and nothing is lost (the sender keeps the message and
/// retries); once rspamd is back the same message is accepted, checked and stored.
/// </summary>
[Collection(BorderLabCollection.Name)]
public sealed class FilterUnavailableTests(BorderLabFixture lab)
{
    private const string Recipient = "info@suempresa.test";

    [Fact]
    public async Task DefersNewMailWhileRspamdIsDownAndAcceptsItWhenItIsBack()
    {
        await lab.RunLabAsync("primary-down");
        string subject = TestMessages.Unique("filter-down");
        // Note: a sender the lab's DNS knows (suempresa.test: SPF ip4:127.0.0.1 -all, DMARC p=none),
        // so the only reason to defer is rspamd's absence.
        byte[] message = System.Text.Encoding.UTF8.GetBytes(
            $"From: Ventas <sender@suempresa.test>\nTo: {Recipient}\nSubject: {subject}\n" +
            $"Message-ID: <{Guid.NewGuid():N}@suempresa.test>\n" +
            $"Date: {DateTimeOffset.UtcNow.ToString("ddd, dd MMM yyyy HH:mm:ss +0000", System.Globalization.CultureInfo.InvariantCulture)}\n" +
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nHola.\n");
        int before = lab.BackupMessages(Recipient).Count();
        await lab.RunLabAsync("rspamd-stop");
        try
        {
            await using (SmtpTestClient client = await SmtpTestClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port))
            {
                Assert.Equal(220, client.Greeting.Code);
                await client.CommandAsync("EHLO mail.suempresa.test");
                SmtpReply mail = await client.CommandAsync("MAIL FROM:<sender@suempresa.test>");
                Assert.True(mail.Code == 451, $"MAIL with rspamd down: {mail.Code} {mail.Text}");
                Assert.Contains("4.7.1", mail.Text, StringComparison.Ordinal);
            }
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.Equal(before, lab.BackupMessages(Recipient).Count());
        }
        finally
        {
            await lab.RunLabAsync("rspamd-start");
        }

        await using (SmtpTestClient client = await SmtpTestClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port))
        {
            await client.CommandAsync("EHLO mail.suempresa.test");
            SmtpReply reply = await client.SendAsync("sender@suempresa.test", [Recipient], message);
            Assert.True(reply.Code == 250, $"with rspamd back: {reply.Code} {reply.Text}");
        }
        string stored = await WaitForStoredAsync(subject);
        Assert.Contains("Authentication-Results: mail-backup.suempresa.test;", stored, StringComparison.Ordinal);
        Assert.Contains("ARC-Seal: i=1;", stored, StringComparison.Ordinal);
    }

    private async Task<string> WaitForStoredAsync(string subject)
    {
        for (int i = 0; i < 300; i++)
        {
            foreach (string f in lab.BackupMessages(Recipient))
            {
                string text = await File.ReadAllTextAsync(f);
                if (text.Contains($"Subject: {subject}\n", StringComparison.Ordinal))
                {
                    return text;
                }
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"message '{subject}' was not stored");
    }
}
