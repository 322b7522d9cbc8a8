using System.Diagnostics;
using System.Globalization;
using System.Text;
using Respaldo.Tests.ChaosLab;
using Respaldo.Tests.Faults;
using Respaldo.Tests.Lab;
using Xunit.Abstractions;

namespace Respaldo.Tests.Load;

/// <summary>
/// Issue 4's load test: a backlog piles up while the primary is down (5,000 messages in the
/// full run); the primary returns and, while that hand-over runs, a burst arrives at the backup
/// at full speed (20,000 in the full run). Nothing may be lost or delivered twice (no faults, no
/// kills here), and the rates are printed: the backup's acceptance rate during the burst and
/// the hand-over rate.
/// </summary>
[Collection(ChaosLabCollection.Name)]
public sealed class BurstDuringHandOverTests(ChaosLabFixture lab, ITestOutputHelper output)
{
    [Fact]
    public async Task ABurstWhileAHandOverRunsLosesNothingAndPrintsTheRates()
    {
        int seed = ChaosSettings.Seed;
        int earlierCount = ChaosSettings.Full ? 5000 : 400;
        int burstCount = ChaosSettings.Full ? 20000 : 1600;
        string run = "l" + seed.ToString("x8", CultureInfo.InvariantCulture);
        List<OutgoingMail> earlier = Generate(seed, run + "e", earlierCount);
        List<OutgoingMail> burst = Generate(seed + 1, run + "b", burstCount);
        var earlierKeys = earlier.SelectMany(m => m.Keys).ToHashSet();
        var ours = earlier.Concat(burst).SelectMany(m => m.Keys).ToHashSet();
        FaultyPrimary proxy = lab.Proxy;
        var primary = new MaildirCensus(lab["PRIMARY_MAILDIRS"]);
        var backup = new MaildirCensus(lab["BACKUP_MAILDIRS"]);
        var held = new MaildirCensus(lab["HOLD_DIR"], maildirsOnly: false);
        primary.IgnoreExisting();
        backup.IgnoreExisting();
        held.IgnoreExisting();

        // The backlog: the primary is down, every copy stays at the backup.
        proxy.Down(FaultKind.RefuseConnections);
        var backlog = new IntakeSender(lab.BackupSmtp.Host, lab.BackupSmtp.Port, connections: 4);
        try
        {
            await backlog.SendAsync(earlier);
            await Eventually.WaitAsync(() => Task.FromResult(backup.Scan(earlierKeys.Contains).Count), n => n == earlierKeys.Count,
                TimeSpan.FromMinutes(ChaosSettings.Full ? 10 : 3), "the backlog stored at the backup");
        }
        finally
        {
            proxy.Up(faults: false);
        }
        Assert.All(earlier, m => Assert.True(backlog.Outcomes[m.Name].Accepted, $"{m.Name}: {backlog.Outcomes[m.Name]}"));

        // The primary is back: the hand-over starts; once its first copy is at the primary, the burst.
        var handOverClock = Stopwatch.StartNew();
        await Eventually.WaitAsync(() => Task.FromResult(primary.Scan(earlierKeys.Contains).Count), n => n > 0, TimeSpan.FromMinutes(1), "the hand-over started");
        int backlogLeftAtBurst = backup.Scan(earlierKeys.Contains).Count;
        var intake = new IntakeSender(lab.BackupSmtp.Host, lab.BackupSmtp.Port, connections: 8);
        var burstClock = Stopwatch.StartNew();
        Task sending = intake.SendAsync(burst);
        TimeSpan? backlogDone = null;
        while (!sending.IsCompleted)
        {
            await Task.WhenAny(sending, Task.Delay(TimeSpan.FromMilliseconds(500)));
            if (backlogDone is null && backup.Scan(earlierKeys.Contains).Count == 0)
            {
                backlogDone = handOverClock.Elapsed;
            }
        }
        await sending;
        TimeSpan burstTime = burstClock.Elapsed;
        int leftAtBurstEnd = backup.Scan(ours.Contains).Count;

        // Calm: everything the backup accepted reaches the primary.
        var accepted = intake.Outcomes.Where(o => o.Value.Accepted).Select(o => o.Key).ToHashSet(StringComparer.Ordinal);
        var acceptedKeys = burst.Where(m => accepted.Contains(m.Name)).SelectMany(m => m.Keys).Concat(earlierKeys).ToHashSet();
        await Eventually.WaitAsync(async () =>
        {
            var at = primary.Scan(ours.Contains).Select(c => c.Key).ToHashSet();
            if (backlogDone is null && backup.Scan(earlierKeys.Contains).Count == 0)
            {
                backlogDone = handOverClock.Elapsed;
            }
            int missing = acceptedKeys.Count(k => !at.Contains(k));
            return missing == 0 && await lab.PrimaryQueueEmptyAsync() && await lab.BackupQueueEmptyAsync();
        }, done => done, TimeSpan.FromMinutes(ChaosSettings.Full ? 30 : 5), "every accepted copy at the primary");
        TimeSpan handOverTime = handOverClock.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(2));

        List<StoredCopy> atPrimary = primary.Scan(ours.Contains);
        var copies = atPrimary.GroupBy(c => c.Key).ToDictionary(g => g.Key, g => g.Count());
        var holds = held.Scan(ours.Contains);
        var lost = acceptedKeys.Where(k => !copies.ContainsKey(k)).ToList();
        int duplicates = copies.Values.Sum(n => n - 1);
        int refused = intake.Outcomes.Count(o => !o.Value.Accepted);
        int checkedHashes = 0;
        var sentHash = backlog.SentHashes.Concat(intake.SentHashes).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var byKey = earlier.Concat(burst).SelectMany(m => m.Keys.Select(k => (k, m))).ToDictionary(p => p.k, p => p.m);
        foreach (StoredCopy c in atPrimary.Where((_, i) => i % 10 == 0))
        {
            string expected = sentHash[byKey[c.Key].Name];
            string actual = StoredCopies.ContentHash(File.ReadAllBytes(c.File));
            Assert.True(actual == expected, $"{c.Key}: content hash {actual} at {c.File}, expected {expected}");
            checkedHashes++;
        }

        long burstBytes = intake.AcceptedBytes;
        string figures = string.Join('\n',
            $"load ({ChaosSettings.Scale}), seed {seed}",
            $"  backlog     {earlier.Count} messages ({earlierKeys.Count} copies) stored while the primary was down; {backlogLeftAtBurst} copies still waiting when the burst began",
            $"  burst       {burst.Count} messages on 8 connections in {burstTime.TotalSeconds:0.0} s: {accepted.Count / burstTime.TotalSeconds:0} messages/s accepted ({burstBytes / 1e6 / burstTime.TotalSeconds:0.00} MB/s), {refused} refused, {intake.TransientRefusals} 4xx retried",
            $"  hand-over   backlog handed over in {backlogDone?.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) ?? "?"} s ({(backlogDone is { } b ? earlierKeys.Count / b.TotalSeconds : 0):0} copies/s while the burst arrived); all {acceptedKeys.Count} copies at the primary after {handOverTime.TotalSeconds:0.0} s ({acceptedKeys.Count / handOverTime.TotalSeconds:0} copies/s); {leftAtBurstEnd} waiting when the burst ended",
            $"  lost        {lost.Count}",
            $"  duplicates  {duplicates}",
            $"  held        {holds.Count}",
            $"  checked     content hash of {checkedHashes} copies (every tenth)");
        output.WriteLine(figures);
        Console.Error.WriteLine(figures);
        await File.WriteAllTextAsync(Path.Combine(ChaosSettings.ResultsDirectory, $"chaos-load-{(ChaosSettings.Full ? "full" : "short")}.txt"), figures + "\n");

        Assert.True(backlogLeftAtBurst > 0, "the hand-over of the backlog was over before the burst began: nothing was measured");
        Assert.True(lost.Count == 0, $"{lost.Count} accepted copies not at the primary: {string.Join(", ", lost.Take(10))}");
        Assert.True(refused == 0, $"{refused} burst messages refused for good");
        Assert.True(duplicates == 0, $"{duplicates} duplicates without a fault or a kill");
        Assert.True(holds.Count == 0, $"{holds.Count} held");
    }

    /// <summary>Small messages (1 to 8 KB, the bulk of real mail), each with its own sender, every 37th for two mailboxes.</summary>
    private static List<OutgoingMail> Generate(int seed, string run, int count)
    {
        var random = new Random(seed);
        var list = new List<OutgoingMail>(count);
        for (int i = 0; i < count; i++)
        {
            int size = random.Next(1024, 8192);
            List<string> to = i % 37 == 36 ? [.. ChaosMail.Mailboxes.Take(2)] : [ChaosMail.Mailboxes[random.Next(ChaosMail.Mailboxes.Length)]];
            int contentSeed = random.Next();
            int index = i;
            string sender = string.Create(CultureInfo.InvariantCulture, $"load.{run}.{i}@example.org");
            list.Add(new OutgoingMail(string.Create(CultureInfo.InvariantCulture, $"{run}-{i}"), Encoding.ASCII.GetBytes(sender), to, "", size,
                () => ChaosMail.Content(run, index, to, size, contentSeed, eightBit: false)));
        }
        return list;
    }
}
