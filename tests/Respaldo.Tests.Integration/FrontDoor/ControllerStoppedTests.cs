using Respaldo.Tests.Lab;

namespace Respaldo.Tests.FrontDoor;

/// <summary>
/// A stopped controller must not make Postfix lose or bounce mail: with the policy service
/// gone, Postfix answers smtpd_policy_service_default_action (451) at RCPT and at the end of
/// data, so the sender keeps the message and retries; nothing is queued, nothing bounces.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class ControllerStoppedTests(LabFixture lab) : IAsyncLifetime
{
    public async Task InitializeAsync() => await lab.RunLabAsync("primary-down");

    public async Task DisposeAsync() => await lab.RunLabAsync("controller-start");

    private async Task<SmtpTestClient> ConnectAsync()
    {
        SmtpTestClient client = await SmtpTestClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port);
        Assert.Equal(250, (await client.CommandAsync("EHLO sender.example.org")).Code);
        return client;
    }

    private async Task<string> QueueAsync()
    {
        ProcessRunner.Result queue = await ProcessRunner.RunAsync("postqueue", ["-c", lab["BACKUP_POSTFIX"], "-j"]);
        Assert.True(queue.ExitCode == 0, queue.ToString());
        return queue.Output;
    }

    [Fact]
    public async Task AStoppedControllerMakesPostfixDeferAtRcptAndAtTheEndOfDataAndBounceNothing()
    {
        string logFile = Path.Combine(lab["LOGS"], "backup-postfix.log");
        long logStart = new FileInfo(logFile).Length;
        string subject = TestMessages.Unique("stopped");

        // A transaction whose RCPT the running controller accepted, cut at the end of data.
        SmtpTestClient open = await ConnectAsync();
        await using (open)
        {
            Assert.Equal(250, (await open.CommandAsync("MAIL FROM:<sender@example.org>")).Code);
            Assert.Equal(250, (await open.CommandAsync("RCPT TO:<info@suempresa.test>")).Code);
            await lab.RunLabAsync("controller-kill");
            SmtpReply endOfData = await open.DataAsync(TestMessages.Plain(subject + "-eod"));
            Assert.True(endOfData.Code == 451, $"end of data with the controller stopped: {endOfData}");
        }

        // A new transaction while the controller is stopped.
        await using (SmtpTestClient client = await ConnectAsync())
        {
            Assert.Equal(250, (await client.CommandAsync("MAIL FROM:<sender@example.org>")).Code);
            SmtpReply rcpt = await client.CommandAsync("RCPT TO:<info@suempresa.test>");
            Assert.True(rcpt.Code == 451, $"RCPT with the controller stopped: {rcpt}");
            Assert.Contains("4.3.0", rcpt.Text, StringComparison.Ordinal);
        }
        await Task.Delay(500);
        Assert.DoesNotContain(lab.BackupMessages("info@suempresa.test"), f => File.ReadAllText(f).Contains(subject, StringComparison.Ordinal));
        Assert.Equal("", (await QueueAsync()).Trim());
        string log;
        using (var reader = new StreamReader(new FileStream(logFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite)))
        {
            reader.BaseStream.Seek(logStart, SeekOrigin.Begin);
            log = await reader.ReadToEndAsync();
        }
        Assert.Contains("problem talking to server", log, StringComparison.Ordinal);
        Assert.DoesNotContain("status=bounced", log, StringComparison.Ordinal);

        // Back: the sender's retry is accepted and stored.
        await lab.RunLabAsync("controller-start");
        await using (SmtpTestClient client = await ConnectAsync())
        {
            SmtpReply reply = await client.SendAsync("sender@example.org", ["info@suempresa.test"], TestMessages.Plain(subject));
            Assert.True(reply.Code == 250, reply.Text);
        }
        await Eventually.WaitAsync(
            () => Task.FromResult(lab.BackupMessages("info@suempresa.test").Count(f => File.ReadAllText(f).Contains(subject, StringComparison.Ordinal))),
            n => n == 1, TimeSpan.FromSeconds(20), "the retried message stored");
    }
}
