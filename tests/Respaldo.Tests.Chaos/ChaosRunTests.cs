using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Respaldo.Tests.ChaosLab;
using Respaldo.Tests.Corpus;
using Respaldo.Tests.Faults;
using Respaldo.Tests.Lab;
using Respaldo.Tests.Smtp;
using Xunit.Abstractions;

namespace Respaldo.Tests;

/// <summary>
/// Issue 4's chaos run. Mail arrives at the backup by SMTP (5,000 messages of 1 KB to 5 MB in
/// the full run, every corpus message among them) while the primary flaps under the faulty
/// proxy, the controller is SIGKILLed and restarted at random moments, and Dovecot is
/// restarted once. Then every accepted copy must be at the primary (content hash after the
/// trace) or held with a reason; none lost; duplicates only where a kill or the proxy left a
/// delivery ambiguous; the journal telling the same story as the primary's maildirs.
/// </summary>
[Collection(ChaosLabCollection.Name)]
public sealed partial class ChaosRunTests(ChaosLabFixture lab, ITestOutputHelper output)
{
    private sealed record KillRecord(int Number, TimeSpan At, int Waiting, IReadOnlyCollection<CopyKey> InFlight);

    [Fact]
    public async Task LosesNothingWhileThePrimaryFlapsTheControllerIsKilledAndDovecotRestarts()
    {
        int seed = ChaosSettings.Seed;
        int count = ChaosSettings.Full ? 5000 : 600;
        int kills = ChaosSettings.Full ? 14 : 10;
        string run = "r" + seed.ToString("x8", CultureInfo.InvariantCulture);
        Log($"chaos run, {ChaosSettings.Scale}, seed {seed} (CHAOS_SEED={seed} replays it), run id {run}");
        var clock = Stopwatch.StartNew();

        FaultyPrimary proxy = lab.Proxy;
        var schedule = new FaultSchedule(seed ^ 0x5EED);
        HostileCorpus corpus = HostileCorpus.Load(ChaosSettings.CorpusDirectory);
        List<OutgoingMail> generated = ChaosMail.Generate(seed, run, count - corpus.Entries.Count);
        List<OutgoingMail> fromCorpus = corpus.Entries.Select(e => ChaosMail.FromCorpus(e, run)).ToList();
        // The corpus goes in among the others, at places the seed picks.
        List<OutgoingMail> mails = [.. generated];
        var placement = new Random(seed);
        foreach (OutgoingMail c in fromCorpus)
        {
            mails.Insert(placement.Next(mails.Count + 1), c);
        }
        var ours = mails.SelectMany(m => m.Keys).ToHashSet();
        var byKey = mails.SelectMany(m => m.Keys.Select(k => (k, m))).ToDictionary(p => p.k, p => p.m);

        var primary = new MaildirCensus(lab["PRIMARY_MAILDIRS"]);
        var backup = new MaildirCensus(lab["BACKUP_MAILDIRS"]);
        var held = new MaildirCensus(lab["HOLD_DIR"], maildirsOnly: false);
        primary.IgnoreExisting();
        backup.IgnoreExisting();
        held.IgnoreExisting();
        var journal = new ChaosJournal(lab["JOURNAL"]);
        JournalMark mark = journal.Mark();
        int faultsBefore = proxy.Ledger.Total;
        var kindsBefore = FaultSchedule.Kinds.Append(FaultKind.RefuseConnections).ToDictionary(k => k, proxy.Ledger.Count);
        int ambiguousBefore = proxy.Ledger.Ambiguous.Count;

        // The reference for corpus messages: what a plain Postfix backup delivers from the same bytes.
        List<OutgoingMail> corpusAccepted = fromCorpus.Where(m => m.Corpus!.Expect.Outcome != CorpusOutcome.Refused).ToList();
        Dictionary<CopyKey, StoredCopy> reference = await ReferenceRelay.RelayAsync(lab, corpusAccepted, primary);
        Dictionary<CopyKey, string> referenceHashes = reference.ToDictionary(p => p.Key, p => StoredCopies.ContentHash(File.ReadAllBytes(p.Value.File)));
        Log($"reference: {corpusAccepted.Count} corpus messages through a plain Postfix relay ({clock.Elapsed.TotalSeconds:0} s)");

        // Chaos.
        var intake = new IntakeSender(lab.BackupSmtp.Host, lab.BackupSmtp.Port, connections: 4);
        var killRecords = new ConcurrentQueue<KillRecord>();
        bool dovecotRestarted = false;
        using var stopFlapping = new CancellationTokenSource();
        var phases = new ConcurrentDictionary<string, int>();
        DateTime chaosStart = DateTime.UtcNow;
        proxy.Up(faults: true);
        Task sending = intake.SendAsync(mails);
        Task flapping = FlapAsync(proxy, schedule, phases, stopFlapping.Token);
        Task dovecot = Task.Run(async () =>
        {
            double at = schedule.Uniform(0.3, 0.6);
            await Eventually.WaitAsync(() => Task.FromResult(intake.Done), d => d >= at * mails.Count || sending.IsCompleted, TimeSpan.FromMinutes(30), "intake progress");
            ProcessRunner.Result r = await lab.RunLabAsync("dovecot-restart", check: false);
            Assert.True(r.ExitCode == 0, $"lab dovecot-restart: {r}");
            dovecotRestarted = true;
            Log($"dovecot restarted at {(DateTime.UtcNow - chaosStart).TotalSeconds:0.0} s, {intake.Done} of {mails.Count} messages sent");
        });
        for (int k = 1; k <= kills; k++)
        {
            // Kills are spread over the intake (the k-th near k/(kills+1) of it, at a point the seed
            // moves), so that each one meets mail arriving and mail being handed over.
            double due = (k + schedule.Uniform(-0.4, 0.4)) / (kills + 1) * mails.Count;
            await Eventually.WaitAsync(() => Task.FromResult(intake.Done), d => d >= due || sending.IsCompleted, TimeSpan.FromMinutes(30), "intake progress");
            await Task.Delay(TimeSpan.FromMilliseconds(schedule.Uniform(0, 1500)));
            int waiting = backup.Scan(ours.Contains).Count;
            await lab.KillControllerAsync();
            // In flight at the kill: at the primary already, its copy not yet deleted at the backup.
            await proxy.WaitIdleAsync(TimeSpan.FromSeconds(30));
            await Eventually.WaitAsync(lab.PrimaryQueueEmptyAsync, e => e, TimeSpan.FromMinutes(2), "the primary's queue to settle");
            var atPrimary = primary.Scan(ours.Contains).Where(c => c.Via == CopyPath.Respaldo).Select(c => c.Key).ToHashSet();
            var inFlight = backup.Scan(ours.Contains).Select(c => c.Key).Where(atPrimary.Contains).ToHashSet();
            killRecords.Enqueue(new KillRecord(k, DateTime.UtcNow - chaosStart, waiting, inFlight));
            Log($"kill {k} at {(DateTime.UtcNow - chaosStart).TotalSeconds:0.0} s: {waiting} copies waiting, {inFlight.Count} in flight; {intake.Done}/{mails.Count} sent");
            await lab.StartControllerAsync();
        }
        await sending;
        await dovecot;
        await stopFlapping.CancelAsync();
        await flapping;
        proxy.Up(faults: false);
        TimeSpan chaosTime = DateTime.UtcNow - chaosStart;
        Log($"chaos over after {chaosTime.TotalSeconds:0} s: {intake.Done} messages sent, {intake.TransientRefusals} 4xx retried, {intake.BrokenConnections} broken connections retried");

        // Calm: the backlog drains; Postfix retries what it deferred while Dovecot was away.
        var accepted = intake.Outcomes.Where(o => o.Value.Accepted).Select(o => o.Key).ToHashSet(StringComparer.Ordinal);
        var acceptedKeys = mails.Where(m => accepted.Contains(m.Name)).SelectMany(m => m.Keys).ToHashSet();
        DateTime drainStart = DateTime.UtcNow;
        DateTime lastFlush = DateTime.MinValue;
        await Eventually.WaitAsync(async () =>
        {
            var delivered = primary.Scan(ours.Contains).Where(c => c.Via == CopyPath.Respaldo).Select(c => c.Key).ToHashSet();
            var holdKeys = held.Scan(ours.Contains).Select(c => c.Key).ToHashSet();
            int waiting = backup.Scan(ours.Contains).Count;
            int missing = acceptedKeys.Count(k => !delivered.Contains(k) && !holdKeys.Contains(k));
            if (missing > waiting && DateTime.UtcNow - lastFlush > TimeSpan.FromSeconds(10))
            {
                // Accepted but not in a mailbox: deferred in Postfix's queue while Dovecot was away.
                await lab.FlushBackupQueueAsync();
                lastFlush = DateTime.UtcNow;
            }
            bool quiet = missing == 0 && waiting == 0 && await lab.BackupQueueEmptyAsync() && await lab.PrimaryQueueEmptyAsync();
            return (missing, waiting, quiet);
        }, s => s.quiet, TimeSpan.FromMinutes(ChaosSettings.Full ? 15 : 6), "every accepted copy at the primary or held");
        await Task.Delay(TimeSpan.FromSeconds(1));
        Log($"drained in {(DateTime.UtcNow - drainStart).TotalSeconds:0} s");

        // What the primary has, what is held, what the journal says.
        List<StoredCopy> atThePrimary = primary.Scan().Where(c => c.Via == CopyPath.Respaldo).ToList();
        List<StoredCopy> strays = atThePrimary.Where(c => !ours.Contains(c.Key)).ToList();
        Assert.True(strays.Count == 0, $"copies at the primary that nobody sent (a smuggled message?): {string.Join(", ", strays.Select(s => s.Key))}");
        var copies = atThePrimary.GroupBy(c => c.Key).ToDictionary(g => g.Key, g => g.ToList());
        var holds = held.Scan(ours.Contains).GroupBy(c => c.Key).ToDictionary(g => g.Key, g => g.ToList());
        var lost = acceptedKeys.Where(k => !copies.ContainsKey(k) && !holds.ContainsKey(k)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} accepted copies are neither at the primary nor held: {string.Join(", ", lost.Take(10))}");
        var deliveredAndHeld = copies.Keys.Where(holds.ContainsKey).ToList();
        Assert.True(deliveredAndHeld.Count == 0, $"both at the primary and held: {string.Join(", ", deliveredAndHeld)}");

        // Content: the hash after the trace, against what was sent (or what the plain relay delivered, for the corpus).
        int checkedCopies = 0;
        foreach ((CopyKey key, List<StoredCopy> list) in copies.Concat(holds))
        {
            OutgoingMail m = byKey[key];
            string expected = m.Corpus is null ? intake.SentHashes[m.Name] : referenceHashes[key];
            foreach (StoredCopy c in list)
            {
                string actual = StoredCopies.ContentHash(File.ReadAllBytes(c.File));
                Assert.True(actual == expected, $"{m.Name} {key}: content hash {actual} at {c.File}, expected {expected}");
                checkedCopies++;
            }
        }

        // The corpus outcomes hold under chaos too.
        foreach (OutgoingMail c in fromCorpus)
        {
            CorpusExpectation e = c.Corpus!.Expect;
            SmtpTransaction t = intake.Outcomes[c.Name];
            switch (e.Outcome)
            {
                case CorpusOutcome.Refused:
                    Assert.True(!t.Accepted && t.Last.Code == e.Code, $"{c.Name}: expected {e}, got {t}");
                    break;
                case CorpusOutcome.Delivered:
                    Assert.True(c.Keys.All(copies.ContainsKey), $"{c.Name}: expected at the primary; the backup said {t}");
                    break;
                case CorpusOutcome.Held:
                    Assert.True(c.Keys.All(holds.ContainsKey), $"{c.Name}: expected held; the backup said {t}");
                    break;
            }
        }

        // Duplicates. A copy at the backup may reach the primary twice only where a kill or the
        // proxy left its delivery ambiguous. Separately, the backup may hold two copies of one
        // message: Dovecot, stopped mid-delivery, stored a message and answered "421 Shutting
        // down" to the end of DATA, and Postfix rightly delivered it again (at-least-once at the
        // LMTP hop). The journal tells the two apart: one row per backup file.
        List<HandOverRow> rows = journal.HandOvers(mark).Where(r => ours.Contains(new CopyKey(r.Sender, r.Recipient))).ToList();
        var files = rows.GroupBy(r => new CopyKey(r.Sender, r.Recipient)).ToDictionary(g => g.Key, g => g.Select(r => (r.Mailbox, r.Message)).Distinct().Count());
        int duplicates = copies.Values.Sum(l => l.Count - 1);
        int intakeDuplicates = files.Values.Sum(n => n - 1);
        int handOverDuplicates = copies.Sum(p => p.Value.Count - files.GetValueOrDefault(p.Key, 1));
        HashSet<CopyKey> lmtpReplays = LmtpReplays(await File.ReadAllTextAsync(Path.Combine(lab["LOGS"], "backup-postfix.log")));
        var unexplainedIntake = files.Where(p => p.Value > 1 && !lmtpReplays.Contains(p.Key)).Select(p => p.Key).ToList();
        Assert.True(unexplainedIntake.Count == 0, $"two copies at the backup without an LMTP delivery Postfix had to repeat: {string.Join(", ", unexplainedIntake.Take(10))}");
        var duplicated = copies.Where(p => p.Value.Count > files.GetValueOrDefault(p.Key, 1)).Select(p => p.Key).ToList();
        List<KillRecord> killed = [.. killRecords];
        var inFlightKeys = killed.SelectMany(k => k.InFlight).ToHashSet();
        int inFlightTotal = killed.Sum(k => k.InFlight.Count);
        List<AmbiguousDelivery> ambiguous = proxy.Ledger.Ambiguous.Skip(ambiguousBefore).Where(a => a.MayBeAtThePrimary).ToList();
        var ambiguousKeys = ambiguous.Select(a => new CopyKey(a.Sender, a.Recipient)).ToHashSet();
        var unexplained = duplicated.Where(k => !inFlightKeys.Contains(k) && !ambiguousKeys.Contains(k)).ToList();
        foreach (CopyKey k in unexplained)
        {
            Log($"unexplained duplicate {k}: journal: {string.Join("; ", rows.Where(r => r.Sender == k.Sender && r.Recipient == k.Recipient).Select(r => $"{r.Mailbox}/{r.Message} {r.Outcome} {r.Stage} {r.Reply}"))}");
        }
        Assert.True(unexplained.Count == 0, $"duplicates neither in flight at a kill nor ambiguous at the proxy: {string.Join(", ", unexplained.Take(10))}");
        Assert.True(handOverDuplicates <= inFlightTotal + ambiguous.Count, $"{handOverDuplicates} duplicates by the hand-over, but only {inFlightTotal} in flight at kills and {ambiguous.Count} ambiguous at the proxy");

        // The journal agrees with the primary.
        var deliveredRows = rows.Where(r => r.Outcome == "delivered").GroupBy(r => new CopyKey(r.Sender, r.Recipient)).ToDictionary(g => g.Key, g => g.Count());
        foreach ((CopyKey key, List<StoredCopy> list) in copies)
        {
            int recorded = deliveredRows.GetValueOrDefault(key);
            Assert.True(recorded >= files.GetValueOrDefault(key, 1) && recorded <= list.Count, $"{key}: {list.Count} copies at the primary, {recorded} deliveries in the journal");
        }
        var phantom = deliveredRows.Keys.Where(k => !copies.ContainsKey(k)).ToList();
        Assert.True(phantom.Count == 0, $"the journal records deliveries the primary does not have: {string.Join(", ", phantom)}");
        List<HoldRow> holdRows = journal.Holds(mark).Where(h => ours.Contains(new CopyKey(h.Sender, h.Recipient))).ToList();
        foreach (CopyKey key in holds.Keys)
        {
            Assert.True(holdRows.Any(h => new CopyKey(h.Sender, h.Recipient) == key && h.Reason.Length > 0), $"{key} is held without a reason in the journal");
        }
        var arrivals = journal.Arrivals();
        int storyGaps = rows.Count(r => r.Outcome == "delivered" && !arrivals.Contains((r.Mailbox, r.Message)));
        Assert.True(storyGaps == 0, $"{storyGaps} deliveries in the journal without their arrival");

        int faults = proxy.Ledger.Total - faultsBefore;
        var notSeen = kindsBefore.Where(p => proxy.Ledger.Count(p.Key) == p.Value).Select(p => p.Key).ToList();

        int sentMessages = mails.Count;
        int acceptedMessages = accepted.Count;
        int refusedMessages = intake.Outcomes.Count(o => !o.Value.Accepted);
        var attempts = rows.GroupBy(r => r.Outcome).ToDictionary(g => g.Key, g => g.Count());
        string figures = string.Join('\n',
            $"chaos run ({ChaosSettings.Scale}), seed {seed}",
            $"  sent        {sentMessages} messages ({generated.Count} generated of 1 KB to 5 MB, {fromCorpus.Count} from the corpus), {FormatBytes(intake.AcceptedBytes)} accepted",
            $"  accepted    {acceptedMessages} messages = {acceptedKeys.Count} copies (one per recipient); refused at SMTP {refusedMessages} (corpus, as expected); {intake.TransientRefusals} 4xx answers retried by the sender",
            $"  delivered   {copies.Count} copies at the primary, content hash checked on {checkedCopies} files",
            $"  held        {holds.Count} copies, each with its reason",
            $"  lost        {lost.Count}",
            $"  duplicates  {duplicates}: {handOverDuplicates} by the hand-over (bound: {inFlightTotal} in flight at the kills + {ambiguous.Count} ambiguous at the proxy), {intakeDuplicates} at the LMTP hop (Dovecot stopped: stored, then answered 421; Postfix delivered again)",
            $"  kills       {killed.Count} SIGKILLs ({killed.Count(k => k.Waiting > 0)} while mail waited), Dovecot restarted once",
            $"  faults      {faults} injected: {Describe(proxy.Ledger, kindsBefore)}; flaps: {string.Join(", ", phases.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}"))}",
            $"  journal     {string.Join(", ", attempts.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Value} {p.Key}"))} attempts; every copy's delivery recorded, none recorded that the primary lacks",
            $"  time        chaos {chaosTime.TotalSeconds:0} s, total {clock.Elapsed.TotalSeconds:0} s");
        Log(figures);
        await File.WriteAllTextAsync(Path.Combine(ChaosSettings.ResultsDirectory, $"chaos-run-{(ChaosSettings.Full ? "full" : "short")}.txt"), figures + "\n");

        // The chaos that was promised happened.
        Assert.True(killed.Count >= 10, $"{killed.Count} kills");
        Assert.True(dovecotRestarted, "Dovecot was not restarted");
        Assert.True(notSeen.Count == 0, $"faults that never took effect: {string.Join(", ", notSeen)}");
    }

    /// <summary>
    /// Messages whose LMTP delivery Postfix deferred after the end of DATA (Dovecot had the
    /// data; its reply was not 250): from the backup's Postfix log, queue id → envelope.
    /// </summary>
    private static HashSet<CopyKey> LmtpReplays(string log)
    {
        var senders = new Dictionary<string, string>(StringComparer.Ordinal);
        var replays = new HashSet<CopyKey>();
        foreach (string line in log.Split('\n'))
        {
            if (QueueFrom().Match(line) is { Success: true } from)
            {
                senders[from.Groups[1].Value] = from.Groups[2].Value;
            }
            else if (DeferredAfterData().Match(line) is { Success: true } d && senders.TryGetValue(d.Groups[1].Value, out string? sender))
            {
                replays.Add(new CopyKey(sender, d.Groups[2].Value));
            }
        }
        return replays;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"qmgr\[\d+\]: (\w+): from=<([^>]*)>")]
    private static partial System.Text.RegularExpressions.Regex QueueFrom();

    [System.Text.RegularExpressions.GeneratedRegex(@"lmtp\[\d+\]: (\w+): to=<([^>]*)>.*status=deferred .*in reply to end of DATA command")]
    private static partial System.Text.RegularExpressions.Regex DeferredAfterData();

    /// <summary>Up with faults for 2 to 8 s, down in one of five ways for 1 to 4 s, over and over.</summary>
    private static async Task FlapAsync(FaultyPrimary proxy, FaultSchedule schedule, ConcurrentDictionary<string, int> phases, CancellationToken stop)
    {
        FaultKind[] downs = [FaultKind.RefuseConnections, FaultKind.SilentAccept, FaultKind.Greet421, FaultKind.Greet554, FaultKind.DropBeforeGreeting];
        int n = 0;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                proxy.Up(faults: true);
                await Task.Delay(TimeSpan.FromSeconds(schedule.Uniform(2, 8)), stop);
                // Note: every kind comes once before any comes twice, so even a short run sees them all.
                FaultKind down = n < downs.Length ? downs[n] : downs[schedule.Pick(downs.Length)];
                n++;
                proxy.Down(down);
                phases.AddOrUpdate($"down as {down}", 1, (_, c) => c + 1);
                await Task.Delay(TimeSpan.FromSeconds(schedule.Uniform(1, 4)), stop);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static string Describe(FaultLedger ledger, IReadOnlyDictionary<FaultKind, int> before) =>
        string.Join(", ", ledger.ByKind.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value - before.GetValueOrDefault(p.Key)}"));

    private static string FormatBytes(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e6:0.0} MB");

    private void Log(string line)
    {
        output.WriteLine(line);
        Console.Error.WriteLine(line);
    }
}
