using System.Text.Json;
using Respaldo.Tests.Lab;
using Xunit.Abstractions;

namespace Respaldo.Tests.Drills;

/// <summary>
/// Fire drills against the lab's real Postfix, Dovecot and primary (<see cref="DrillLabFixture"/>),
/// started with <c>respaldoctl drill TENANT --json</c> over the lab's control bus: a drill passes
/// while the primary is up (though the tenant takes mail only while it is down) and shows its four
/// timings; a greylisting primary makes it fail with the primary's reply; a primary that is down
/// makes it fail as "primary down", and its message is handed over when the primary is back.
/// </summary>
[Collection(DrillLabCollection.Name)]
public sealed class DrillTests(DrillLabFixture lab, ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    private sealed record Drill(string Id, string Outcome, string Step, string Reason, long Started, long Accepted, long Stored, long Seen, long HandedOver);

    private async Task<(int ExitCode, Drill Drill)> DrillAsync()
    {
        ProcessRunner.Result r = await lab.LabCtlAsync("drill", "suempresa", "--json");
        output.WriteLine(r.ToString());
        using JsonDocument json = JsonDocument.Parse(r.Output);
        JsonElement d = Assert.Single(json.RootElement.EnumerateArray().ToList());
        return (r.ExitCode, new Drill(d.GetProperty("drill").GetString()!, d.GetProperty("outcome").GetString()!, d.GetProperty("step").GetString()!,
            d.GetProperty("reason").GetString()!, d.GetProperty("started_at").GetInt64(), d.GetProperty("accepted_at").GetInt64(),
            d.GetProperty("stored_at").GetInt64(), d.GetProperty("seen_at").GetInt64(), d.GetProperty("handed_over_at").GetInt64()));
    }

    /// <summary>The file at the primary whose X-Respaldo-Drill header is <paramref name="id"/>, once there.</summary>
    private Task<string?> AtThePrimaryAsync(string id) => Eventually.WaitAsync(
        () => Task.FromResult(lab.PrimaryMessages(DrillLabFixture.Address).FirstOrDefault(f => Respaldo.Drills.DrillMessage.ReadId(f) == id)),
        f => f is not null, Patience, $"drill {id} at the primary");

    private async Task WaitForPrimaryAsync(string state)
    {
        await Eventually.WaitAsync(async () =>
        {
            ProcessRunner.Result r = await lab.LabCtlAsync("status", "--json");
            using JsonDocument json = JsonDocument.Parse(r.Output);
            return json.RootElement.GetProperty("tenants").EnumerateArray()
                .Single(t => t.GetProperty("id").GetString() == "suempresa").GetProperty("primary_state").GetString();
        }, s => s == state, Patience, $"the controller sees suempresa's primary {state}");
    }

    [Fact]
    public async Task ADrillPassesWhileThePrimaryIsUpAndShowsItsFourTimings()
    {
        await lab.RunLabAsync("primary-up");
        await WaitForPrimaryAsync("up");
        (int exit, Drill drill) = await DrillAsync();
        Assert.True(drill.Outcome == "passed", $"the drill failed at {drill.Step}: {drill.Reason}");
        Assert.Equal(0, exit);
        Assert.Equal("", drill.Step);
        Assert.StartsWith("handed over: 250", drill.Reason, StringComparison.Ordinal);
        // Note: the maildir file's time may be a little before the watcher's own clock reading,
        // but never before the drill started; the rest come in order.
        Assert.True(drill.Started <= drill.Accepted && drill.Started <= drill.Stored && drill.Accepted <= drill.Seen && drill.Seen <= drill.HandedOver,
            $"timings out of order: {drill}");
        Assert.True(drill.Stored <= drill.Seen, $"stored after seen: {drill}");

        string file = (await AtThePrimaryAsync(drill.Id))!;
        MimeKit.MimeMessage message = await MimeKit.MimeMessage.LoadAsync(file);
        Assert.StartsWith("[Respaldo drill] ", message.Subject, StringComparison.Ordinal);
        Assert.Equal(drill.Id, message.Headers["X-Respaldo-Drill"]);
        Assert.Equal("respaldo@mail-backup.suempresa.test", message.From.Mailboxes.Single().Address);
        Assert.False(string.IsNullOrEmpty(message.MessageId));
        // The border's rspamd saw it like any message: its Authentication-Results is in the copy.
        Assert.StartsWith("mail-backup.suempresa.test;", message.Headers["Authentication-Results"] ?? "", StringComparison.Ordinal);
        Assert.DoesNotContain(lab.BackupMessages(DrillLabFixture.Address), f => Respaldo.Drills.DrillMessage.ReadId(f) == drill.Id);

        using var http = new HttpClient();
        string metrics = await http.GetStringAsync(new Uri(new Uri(lab["WEB_URL"]), "/metrics"));
        string line = metrics.Split('\n').Single(l => l.StartsWith("respaldo_drill_last_success_timestamp_seconds{tenant=\"suempresa\"} ", StringComparison.Ordinal));
        Assert.Equal(drill.HandedOver / 1000.0, double.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), 3);
    }

    [Fact]
    public async Task AForgedDrillSenderGetsTheOrdinary450WhileThePrimaryIsUp()
    {
        await lab.RunLabAsync("primary-up");
        await WaitForPrimaryAsync("up");
        await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port);
        Assert.Equal(250, (await client.CommandAsync("EHLO outsider.test")).Code);
        Assert.Equal(250, (await client.CommandAsync("MAIL FROM:<respaldo-drill+0011223344556677.00112233445566778899aabb@mail-backup.suempresa.test>")).Code);
        SmtpReply rcpt = await client.CommandAsync($"RCPT TO:<{DrillLabFixture.Address}>");
        Assert.Equal(450, rcpt.Code);
        Assert.Contains("only while its primary MX is down", rcpt.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADrillFailsWithThePrimarysReplyWhenItGreylistsTheBackup()
    {
        await lab.RunLabAsync("primary-up");
        await WaitForPrimaryAsync("up");
        await lab.GreylistAsync(on: true);
        try
        {
            (int exit, Drill drill) = await DrillAsync();
            Assert.Equal(("failed", "primary"), (drill.Outcome, drill.Step));
            Assert.Equal(9, exit);
            Assert.Contains("the primary deferred it: 450 ", drill.Reason, StringComparison.Ordinal);
            Assert.Contains("greylisted", drill.Reason, StringComparison.Ordinal);
            Assert.True(drill.Accepted > 0 && drill.Stored > 0 && drill.Seen > 0 && drill.HandedOver == 0, drill.ToString());
            // A failed drill is an alert at the tenant's address.
            await Eventually.WaitAsync(
                () => Task.FromResult(LabFixture.Messages(lab["EXTERNAL_MAILDIRS"], lab["ALERT_MAILBOX"])
                    .Select(f => MimeKit.MimeMessage.Load(f))
                    .Any(m => m.Headers["X-Respaldo-Alert"] == "drill-failing" && (m.TextBody ?? "").Contains(drill.Id, StringComparison.Ordinal))),
                found => found, Patience, "a drill-failing alert at the alert address");
        }
        finally
        {
            await lab.GreylistAsync(on: false);
        }
    }

    [Fact]
    public async Task ADrillReportsPrimaryDownAndItsMessageIsHandedOverWhenThePrimaryIsBack()
    {
        await lab.RunLabAsync("primary-down");
        try
        {
            await WaitForPrimaryAsync("down");
            (int exit, Drill drill) = await DrillAsync();
            Assert.Equal(("failed", "primary-down"), (drill.Outcome, drill.Step));
            Assert.Equal(9, exit);
            Assert.StartsWith("primary down", drill.Reason, StringComparison.Ordinal);
            Assert.True(drill.Accepted > 0 && drill.Stored > 0 && drill.Seen > 0 && drill.HandedOver == 0, drill.ToString());
            Assert.Contains(lab.BackupMessages(DrillLabFixture.Address), f => Respaldo.Drills.DrillMessage.ReadId(f) == drill.Id);
            await lab.RunLabAsync("primary-up");
            await AtThePrimaryAsync(drill.Id);
            await Eventually.WaitAsync(
                () => Task.FromResult(lab.BackupMessages(DrillLabFixture.Address).Any(f => Respaldo.Drills.DrillMessage.ReadId(f) == drill.Id)),
                there => !there, Patience, "the drill's copy deleted at the backup");
        }
        finally
        {
            await lab.RunLabAsync("primary-up");
        }
    }
}
