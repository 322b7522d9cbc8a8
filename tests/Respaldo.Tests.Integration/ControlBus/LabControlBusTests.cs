using Respaldo.Tests.Lab;

namespace Respaldo.Tests.ControlBus;

/// <summary>
/// After 'make demo', the respaldoctl commands the demo prints work against the lab's daemon:
/// the lab runs a dbus-daemon of its own with the project's bus policy, the daemon offers
/// es.respaldo.Control1 there, and 'lab ctl' points respaldoctl at it. status, queue and
/// flush answer with the lab's own numbers, and flush says "primary down" (exit 6) while it is.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class LabControlBusTests(LabFixture lab)
{
    [Fact]
    public async Task StatusQueueAndFlushWorkAgainstTheLabsDaemonOverItsOwnBus()
    {
        Assert.StartsWith("unix:path=" + lab.Directory, lab["CONTROL_BUS"], StringComparison.Ordinal);
        await lab.RunLabAsync("primary-down");
        string subject = TestMessages.Unique("labctl");
        await using (SmtpTestClient smtp = await SmtpTestClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port))
        {
            await smtp.CommandAsync("EHLO labctl.example.org");
            SmtpReply r = await smtp.SendAsync("sender@example.org", ["ventas@suempresa.test"], TestMessages.Plain(subject));
            Assert.True(r.Code == 250, r.Text);
        }
        string? Stored() => lab.BackupMessages("ventas@suempresa.test").FirstOrDefault(f => File.ReadAllText(f).Contains(subject, StringComparison.Ordinal));
        string stored = (await Eventually.WaitAsync(() => Task.FromResult(Stored()), f => f is not null, TimeSpan.FromSeconds(20), "the message is stored at the backup"))!;
        string baseName = Path.GetFileName(stored).Split(':')[0];

        ProcessRunner.Result queue = await Eventually.WaitAsync(() => lab.LabCtlAsync("queue", "suempresa"),
            q => q.ExitCode == 0 && q.Output.Contains(baseName, StringComparison.Ordinal), TimeSpan.FromSeconds(20), "respaldoctl queue lists the stored message");
        Assert.Contains("ventas@suempresa.test", queue.Output, StringComparison.Ordinal);

        ProcessRunner.Result status = await lab.LabCtlAsync("status");
        Assert.True(status.ExitCode == 0, status.ToString());
        string line = status.Output.Split('\n').Single(l => l.StartsWith("suempresa ", StringComparison.Ordinal));
        Assert.Contains(" down ", line, StringComparison.Ordinal);
        Assert.Contains($"respaldod (pid {File.ReadAllText(lab["CONTROLLER_PIDFILE"]).Trim()})", status.Output, StringComparison.Ordinal);

        ProcessRunner.Result down = await lab.LabCtlAsync("flush", "suempresa");
        Assert.True(down.ExitCode == 6, $"flush while the primary is down exits 6 (primary down):\n{down}");
        Assert.Contains("down", down.Output + down.Error, StringComparison.Ordinal);

        await lab.RunLabAsync("primary-up");
        ProcessRunner.Result flush = await lab.LabCtlAsync("flush", "suempresa");
        Assert.True(flush.ExitCode == 0, flush.ToString());
        await Eventually.WaitAsync(() => Task.FromResult(Stored()), f => f is null, TimeSpan.FromSeconds(20), "the message left the backup");
        ProcessRunner.Result empty = await lab.LabCtlAsync("queue", "suempresa");
        Assert.True(empty.ExitCode == 0, empty.ToString());
        Assert.DoesNotContain(baseName, empty.Output, StringComparison.Ordinal);
    }
}
