using System.Diagnostics;
using Respaldo.Tests.Intake;
using Respaldo.Tests.Lab;
using Xunit.Abstractions;

namespace Respaldo.Tests.FrontDoor;

/// <summary>
/// The front door's rules through real SMTP against a lab whose primary requires TLS:
/// accept only while the primary is down (as the controller decides), recipients learned from
/// the primary and from the admin's file, the primary's SIZE, and the relay battery against a
/// domain whose recipients are not all listed.
/// </summary>
[Collection(FrontDoorLabCollection.Name)]
public sealed class FrontDoorTests(FrontDoorLabFixture lab, ITestOutputHelper output)
{
    private static readonly TimeSpan Decision = TimeSpan.FromSeconds(30);

    private Task<SmtpReply> RcptAsync(string recipient, long? size = null) => FrontDoorSmtp.RcptAsync(lab, recipient, size);

    /// <summary>Waits until the front door of suempresa.test is open (250) or closed (450 4.7.1 "use the primary").</summary>
    private Task<SmtpReply> DoorAsync(bool open) => Eventually.WaitAsync(
        () => RcptAsync("ventas@suempresa.test"),
        r => open ? r.Code == 250 : r.Code == 450 && r.Text.Contains("4.7.1", StringComparison.Ordinal),
        Decision, open ? "front door open (primary down)" : "front door closed (primary up)");

    private long JournalCount(string sql) => (long)LabJournal.Query(lab["JOURNAL"], sql)[0][0]!;

    [Fact]
    public async Task AcceptsOnlyWhileThePrimaryIsDownAsTheControllerDecides()
    {
        await lab.RunLabAsync("primary-up");
        SmtpReply closed = await DoorAsync(open: false);
        output.WriteLine($"primary up:   RCPT TO:<ventas@suempresa.test> -> {closed}");
        Assert.Matches(@"^450 4\.7\.1 <ventas@suempresa\.test>: Recipient address rejected: This backup MX takes mail for suempresa\.test only while its primary MX is down; please deliver to the primary$", closed.Text);

        long downAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var clock = Stopwatch.StartNew();
        await lab.RunLabAsync("primary-down");
        SmtpReply open = await DoorAsync(open: true);
        output.WriteLine($"primary down: RCPT TO:<ventas@suempresa.test> -> {open} after {clock.Elapsed.TotalSeconds:0.0} s");
        // The controller decided: at least downAfterFailures (2) failed probes since the primary stopped.
        Assert.True(JournalCount($"SELECT count(*) FROM probes WHERE tenant = 'suempresa' AND up = 0 AND at >= {downAt}") >= 2);

        string subject = TestMessages.Unique("door");
        SmtpReply sent = await FrontDoorSmtp.SendAsync(lab, "ventas@suempresa.test", TestMessages.Plain(subject, "ventas@suempresa.test"));
        Assert.True(sent.Code == 250, sent.Text);
        await FrontDoorSmtp.StoredAsync(() => lab.BackupMessages("ventas@suempresa.test"), subject, Decision);

        // Back up: the mail goes over (the primary requires TLS), and the door closes again.
        clock.Restart();
        await lab.RunLabAsync("primary-up");
        string atPrimary = (await FrontDoorSmtp.StoredAsync(() => lab.PrimaryMessages("ventas@suempresa.test"), subject, Decision))!;
        Assert.Matches(@"\(using TLSv1\.[23] with cipher", atPrimary);
        SmtpReply again = await DoorAsync(open: false);
        output.WriteLine($"primary back: RCPT TO:<ventas@suempresa.test> -> {again} after {clock.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task LearnsRecipientsWhileThePrimaryIsUpAndAcceptsOnlyThoseDuringTheOutage()
    {
        const string learned = "postmaster@suempresa.test";
        string maildir = Path.Combine(lab["BACKUP_MAILDIRS"], "suempresa.test", "postmaster");
        Assert.False(Directory.Exists(maildir));
        await lab.RunLabAsync("primary-up");
        await DoorAsync(open: false);

        // While up: the door stays closed for every address alike, and a callout behind that
        // answer asks the primary; its verdict is cached.
        SmtpReply known = await RcptAsync(learned);
        Assert.True(known.Code == 450 && known.Text.Contains("4.7.1", StringComparison.Ordinal), known.Text);
        SmtpReply unknown = await RcptAsync("nadie@suempresa.test");
        Assert.True(unknown.Code == 450 && unknown.Text.Contains("4.7.1", StringComparison.Ordinal), unknown.Text);
        await Eventually.WaitAsync(
            () => Task.FromResult(JournalCount($"SELECT count(*) FROM recipients WHERE tenant = 'suempresa' AND address = '{learned}' AND valid = 1")
                + JournalCount("SELECT count(*) FROM recipients WHERE tenant = 'suempresa' AND address = 'nadie@suempresa.test' AND valid = 0")),
            n => n == 2, Decision, "both verdicts learned behind the 450");

        // The outage: the learned address is accepted, its maildir created on first delivery.
        await lab.RunLabAsync("primary-down");
        await DoorAsync(open: true);
        string subject = TestMessages.Unique("learned");
        SmtpReply sent = await FrontDoorSmtp.SendAsync(lab, learned, TestMessages.Plain(subject, learned));
        Assert.True(sent.Code == 250, sent.Text);
        await FrontDoorSmtp.StoredAsync(() => lab.BackupMessages(learned), subject, Decision);
        Assert.Contains($"{learned}:::::::", await File.ReadAllTextAsync(Path.Combine(lab["STATE_DIR"], "dynamic-users")), StringComparison.Ordinal);

        // A controller restarted during the outage still knows (journal): the view of the primary and the cache.
        await lab.RunLabAsync("controller-kill");
        await lab.RunLabAsync("controller-start");
        SmtpReply afterRestart = await Eventually.WaitAsync(() => RcptAsync(learned), r => r.Code != 451, Decision, "controller back");
        Assert.True(afterRestart.Code == 250, afterRestart.Text);

        // Anything not known valid gets 450: the sender keeps it and retries (no backscatter).
        foreach (string other in new[] { "otro@suempresa.test", "nadie@suempresa.test" })
        {
            SmtpReply r = await RcptAsync(other);
            output.WriteLine($"primary down: RCPT TO:<{other}> -> {r}");
            Assert.True(r.Code == 450 && r.Text.Contains("4.1.1", StringComparison.Ordinal), r.Text);
        }

        // The admin's list, re-read when it changes.
        Assert.Equal(450, (await RcptAsync("lista@suempresa.test")).Code);
        await File.WriteAllTextAsync(lab.RecipientsFile, "# synced from the primary\nlista@suempresa.test\nnot an address\n");
        SmtpReply listed = await Eventually.WaitAsync(() => RcptAsync("lista@suempresa.test"), r => r.Code == 250, Decision, "address from the admin's file accepted");
        output.WriteLine($"primary down: RCPT TO:<lista@suempresa.test> (in the file) -> {listed}");

        // The primary is back and requires TLS: the learned address's mail is handed over.
        await lab.RunLabAsync("primary-up");
        string atPrimary = (await FrontDoorSmtp.StoredAsync(() => lab.PrimaryMessages(learned), subject, Decision))!;
        Assert.Matches(@"\(using TLSv1\.[23] with cipher", atPrimary);
        await Eventually.WaitAsync(() => Task.FromResult(lab.BackupMessages(learned).Count()), n => n == 0, Decision, "backup copy deleted");
    }

    [Fact]
    public async Task ABurstOfGuessedRecipientsFromOneClientGetsOneAnswerAndNoMoreCalloutsThanItsBudget()
    {
        // A dictionary attack at the backup while the primary is up: every guess gets the same
        // 450, and the primary is asked about at most calloutsPerClientPerMinute (10) of them.
        const int guesses = 30;
        await lab.RunLabAsync("primary-up");
        await DoorAsync(open: false);
        string run = Guid.NewGuid().ToString("N")[..8];
        var answers = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < guesses; i++)
        {
            string guess = $"guess-{run}-{i}@suempresa.test";
            answers.Add((await RcptAsync(guess)).Text.Replace($"<{guess}>", "<guess>", StringComparison.Ordinal));
        }
        string only = Assert.Single(answers);
        Assert.StartsWith("450 4.7.1", only, StringComparison.Ordinal);

        // Every guess ends either as a callout the primary refused (its log) or as over budget (the controller's log).
        string primaryLog = Path.Combine(lab["LOGS"], "primary-postfix.log");
        string controllerLog = Path.Combine(lab["LOGS"], "controller.log");
        (int Asked, int Over) Count() => (
            File.ReadLines(primaryLog).Count(l => l.Contains($"<guess-{run}-", StringComparison.Ordinal)),
            File.ReadLines(controllerLog).Count(l => l.Contains("over its callout budget", StringComparison.Ordinal) && l.Contains($"guess-{run}-", StringComparison.Ordinal)));
        (int asked, int over) = await Eventually.WaitAsync(
            () => Task.FromResult(Count()), c => c.Asked + c.Over >= guesses, Decision, "every guess asked about or over budget");
        output.WriteLine($"{guesses} guesses: {asked} callouts at the primary, {over} over budget");
        Assert.InRange(asked, 1, 10);
        Assert.Equal(guesses, asked + over);
    }

    [Fact]
    public async Task NeverAcceptsMoreThanThePrimaryAdvertisedAtItsLastProbe()
    {
        const string rcpt = "juan@norte.suempresa.test";
        await lab.RunLabAsync("primary-up");
        await Eventually.WaitAsync(
            () => RcptAsync(rcpt, FrontDoorLabFixture.PrimarySizeLimit + 1),
            r => r.Code == 552, Decision, "the primary's SIZE learned by a probe");
        Assert.True(JournalCount($"SELECT count(*) FROM probes WHERE tenant = 'norte' AND up = 1 AND max_size = {FrontDoorLabFixture.PrimarySizeLimit}") >= 1);

        SmtpReply over = await RcptAsync(rcpt, 300_000);
        Assert.True(over.Code == 552 && over.Text.Contains("5.3.4", StringComparison.Ordinal), over.Text);
        Assert.Equal(250, (await RcptAsync(rcpt, 100_000)).Code);

        // Without SIZE= the check comes at the end of data, with the real size.
        string big = TestMessages.Unique("big");
        SmtpReply atEnd = await FrontDoorSmtp.SendAsync(lab, rcpt, FrontDoorSmtp.OfSize(big, 250_000, rcpt));
        Assert.True(atEnd.Code == 552, atEnd.Text);
        SmtpReply small = await FrontDoorSmtp.SendAsync(lab, rcpt, FrontDoorSmtp.OfSize(TestMessages.Unique("small"), 50_000, rcpt));
        Assert.True(small.Code == 250, small.Text);
        output.WriteLine($"SIZE={over} / 300000 declared; end of data of 250000 bytes -> {atEnd}");
    }

    [Fact]
    public async Task RefusesEveryAttemptOfTheOpenRelayBatteryAtADomainWithLearnedRecipients()
    {
        IReadOnlyList<RelayBattery.Outcome> outcomes = await RelayBattery.RunAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port,
            RelayBattery.For("suempresa.test", "norte.suempresa.test"), output);
        Assert.All(outcomes, o => Assert.True(o.Refused, $"{o.Attempt.Name}: RCPT TO:<{o.Attempt.Recipient}> got {o.Reply}"));
    }
}
