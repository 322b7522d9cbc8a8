using Respaldo.Tests.Lab;
using Xunit.Abstractions;

namespace Respaldo.Tests.FrontDoor;

/// <summary>Storage: the allocation for all tenants (452 at RCPT or at the end of data), and a mailbox quota enforced by Dovecot as a temporary failure.</summary>
[Collection(StorageLabCollection.Name)]
public sealed class StorageTests(StorageLabFixture lab, ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private int BackupCount() => Directory.Exists(lab["BACKUP_MAILDIRS"])
        ? Directory.EnumerateFiles(lab["BACKUP_MAILDIRS"], "*", SearchOption.AllDirectories).Count(f => f.Contains("/new/", StringComparison.Ordinal) || f.Contains("/cur/", StringComparison.Ordinal))
        : 0;

    private async Task<string> QueueAsync() => (await ProcessRunner.RunAsync("postqueue", ["-c", lab["BACKUP_POSTFIX"], "-j"])).Output;

    /// <summary>Hands everything over, then takes the primary down: an empty backup to fill.</summary>
    private async Task StartEmptyAsync()
    {
        await lab.RunLabAsync("primary-up");
        await ProcessRunner.RunAsync("postqueue", ["-c", lab["BACKUP_POSTFIX"], "-f"]);
        await Eventually.WaitAsync(async () => (BackupCount(), await QueueAsync()), s => s.Item1 == 0 && s.Item2.Trim().Length == 0, Wait, "backup empty");
        await lab.RunLabAsync("primary-down");
    }

    [Fact]
    public async Task RefusesMailOverTheAllocationWith452AndTakesItAgainOnceTheHandOverFreesSpace()
    {
        const string rcpt = "info@suempresa.test";
        await StartEmptyAsync();
        for (int i = 0; i < 2; i++)
        {
            string subject = TestMessages.Unique("fill");
            SmtpReply r = await FrontDoorSmtp.SendAsync(lab, rcpt, FrontDoorSmtp.OfSize(subject, 60_000, rcpt));
            Assert.True(r.Code == 250, r.Text);
            await FrontDoorSmtp.StoredAsync(() => lab.BackupMessages(rcpt), subject, Wait);
        }
        // About 120 kB of 150 kB used: 60 kB more does not fit.
        SmtpReply declared = await FrontDoorSmtp.RcptAsync(lab, rcpt, 60_000);
        Assert.True(declared.Code == 452 && declared.Text.Contains("4.3.1", StringComparison.Ordinal), declared.Text);
        SmtpReply atEnd = await FrontDoorSmtp.SendAsync(lab, rcpt, FrontDoorSmtp.OfSize(TestMessages.Unique("over"), 60_000, rcpt));
        Assert.True(atEnd.Code == 452, atEnd.Text);
        output.WriteLine($"over the allocation: RCPT with SIZE=60000 -> {declared}; end of data -> {atEnd}");
        Assert.Equal(2, lab.BackupMessages(rcpt).Count());

        await lab.RunLabAsync("primary-up");
        await Eventually.WaitAsync(() => Task.FromResult(BackupCount()), n => n == 0, Wait, "hand-over freed the space");
        SmtpReply again = await Eventually.WaitAsync(() => FrontDoorSmtp.RcptAsync(lab, rcpt, 60_000), r => r.Code == 250, Wait, "accepted again");
        output.WriteLine($"after the hand-over: RCPT with SIZE=60000 -> {again}");
    }

    [Fact]
    public async Task AMailboxOverItsQuotaIsATemporaryFailureNeverABounce()
    {
        const string rcpt = "ventas@suempresa.test";
        await StartEmptyAsync();
        string first = TestMessages.Unique("quota1");
        Assert.Equal(250, (await FrontDoorSmtp.SendAsync(lab, rcpt, FrontDoorSmtp.OfSize(first, 12_000, rcpt))).Code);
        await FrontDoorSmtp.StoredAsync(() => lab.BackupMessages(rcpt), first, Wait);

        // Undeclared size: Postfix takes it, Dovecot's quota (quota_full_tempfail) defers it in Postfix's queue.
        string second = TestMessages.Unique("quota2");
        Assert.Equal(250, (await FrontDoorSmtp.SendAsync(lab, rcpt, FrontDoorSmtp.OfSize(second, 12_000, rcpt))).Code);
        string queue = await Eventually.WaitAsync(QueueAsync, q => q.Contains("\"delay_reason\"", StringComparison.Ordinal), Wait, "deferred in Postfix's queue");
        output.WriteLine($"Postfix queue: {queue.Trim()}");
        Assert.Contains("uota", queue, StringComparison.Ordinal);
        Assert.DoesNotContain("MAILER-DAEMON", queue, StringComparison.Ordinal);
        // Declared size: the front door answers for Dovecot at RCPT.
        SmtpReply declared = await FrontDoorSmtp.RcptAsync(lab, rcpt, 12_000);
        Assert.True(declared.Code == 452 && declared.Text.Contains("4.2.2", StringComparison.Ordinal), declared.Text);

        // The hand-over empties the mailbox; the deferred message is then delivered (and handed over too).
        await lab.RunLabAsync("primary-up");
        await FrontDoorSmtp.StoredAsync(() => lab.PrimaryMessages(rcpt), first, Wait);
        await ProcessRunner.RunAsync("postqueue", ["-c", lab["BACKUP_POSTFIX"], "-f"]);
        await FrontDoorSmtp.StoredAsync(() => lab.PrimaryMessages(rcpt), second, Wait);
        string log = await File.ReadAllTextAsync(Path.Combine(lab["LOGS"], "backup-postfix.log"));
        Assert.DoesNotContain("status=bounced", log, StringComparison.Ordinal);
    }
}
