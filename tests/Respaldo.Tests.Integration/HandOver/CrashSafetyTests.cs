using System.Text;
using Respaldo.Tests.Lab;
using Xunit.Abstractions;

namespace Respaldo.Tests.HandOver;

/// <summary>
/// The controller is killed with SIGKILL again and again in the middle of handing over
/// 2,000 messages: nothing may be lost, and a duplicate may only be a message that was in
/// flight at a kill (at the primary already, its copy not yet deleted).
/// </summary>
[Collection(LabCollection.Name)]
public sealed class CrashSafetyTests(LabFixture lab, ITestOutputHelper output)
{
    private const int Messages = 2000;
    private const int Kills = 6;

    [Fact]
    public async Task LosesNothingWhenKilledMidHandOverAndDuplicatesOnlyWhatWasInFlight()
    {
        int seed = Environment.GetEnvironmentVariable("CRASH_SEED") is { } s ? int.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : Random.Shared.Next();
        var random = new Random(seed);
        output.WriteLine($"seed {seed}");
        string run = "crash" + Guid.NewGuid().ToString("N")[..8];
        string[] recipients = ["info@suempresa.test", "ventas@suempresa.test", "juan@norte.suempresa.test"];

        await lab.RunLabAsync("primary-down");
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async connection =>
        {
            await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port);
            await client.CommandAsync("EHLO load.example.org");
            for (int i = connection; i < Messages; i += 4)
            {
                string to = recipients[i % 3];
                byte[] body = Encoding.ASCII.GetBytes(
                    $"From: load@example.org\nTo: {to}\nSubject: crash {i}\nMessage-ID: <{run}.{i}@example.org>\n\n" +
                    string.Concat(Enumerable.Repeat($"line {i} of a message that is about two kilobytes long.......\n", 32)));
                SmtpReply reply = await client.SendAsync("load@example.org", [to], body);
                Assert.True(reply.Code == 250, reply.Text);
            }
        }));
        await WaitUntilAsync(() => Ids(lab["BACKUP_MAILDIRS"], run).Count == Messages, "all messages stored at the backup", TimeSpan.FromMinutes(3));

        await lab.RunLabAsync("primary-up");
        int inFlight = 0;
        int killsMidway = 0;
        for (int k = 0; k < Kills; k++)
        {
            // Note: each kill comes when the hand-over has reached a random point of its own
            // slice of the backlog, not after a fixed time: a hand-over that got faster finished
            // between two timed kills and left the last ones nothing to interrupt.
            int slice = Messages / (Kills + 2);
            int point = Messages - (slice * (k + 1)) + random.Next(-slice / 3, (slice / 3) + 1);
            await WaitUntilAsync(() => Ids(lab["BACKUP_MAILDIRS"], run).Count <= point, $"the hand-over to come down to {point} waiting", TimeSpan.FromMinutes(2));
            int waitingBefore = Ids(lab["BACKUP_MAILDIRS"], run).Count;
            ProcessRunner.Result kill = await lab.RunLabAsync("controller-kill", check: false);
            Assert.True(kill.ExitCode == 0, kill.ToString());
            await WaitUntilAsync(PrimaryQueueEmptyAsync, "the primary's queue to settle", TimeSpan.FromMinutes(1));
            HashSet<string> atPrimary = [.. Ids(lab["PRIMARY_MAILDIRS"], run)];
            int both = Ids(lab["BACKUP_MAILDIRS"], run).Count(atPrimary.Contains);
            inFlight += both;
            killsMidway += waitingBefore > 0 ? 1 : 0;
            output.WriteLine($"kill {k + 1}: {waitingBefore} waiting before, {both} in flight (at the primary, copy not yet deleted)");
            await lab.RunLabAsync("controller-start");
        }

        await WaitUntilAsync(() => Ids(lab["BACKUP_MAILDIRS"], run).Count == 0, "the backup to empty", TimeSpan.FromMinutes(5));
        await WaitUntilAsync(PrimaryQueueEmptyAsync, "the primary's queue to settle", TimeSpan.FromMinutes(1));
        List<string> delivered = Ids(lab["PRIMARY_MAILDIRS"], run);
        int unique = delivered.Distinct().Count();
        int duplicates = delivered.Count - unique;
        output.WriteLine($"{Messages} sent, {unique} at the primary, lost {Messages - unique}, duplicates {duplicates}, kills {Kills} ({killsMidway} mid hand-over), in flight at the kills {inFlight}");
        Assert.Equal(Messages, unique);
        Assert.True(duplicates <= inFlight, $"{duplicates} duplicates but only {inFlight} messages were in flight at the kills");
        Assert.True(killsMidway >= 5, $"only {killsMidway} kills happened while messages were waiting");
    }

    private async Task<bool> PrimaryQueueEmptyAsync()
    {
        ProcessRunner.Result q = await ProcessRunner.RunAsync("postqueue", ["-c", lab["PRIMARY_POSTFIX"], "-p"]);
        return q.Output.Contains("Mail queue is empty", StringComparison.Ordinal);
    }

    private static List<string> Ids(string root, string run) => StoredMail.MessageIds(root, run);

    private static Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan timeout) =>
        WaitUntilAsync(() => Task.FromResult(condition()), what, timeout);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan timeout)
    {
        DateTime end = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > end)
            {
                throw new TimeoutException($"timed out waiting for {what}");
            }
            await Task.Delay(100);
        }
    }
}
