using System.Text.RegularExpressions;
using Respaldo.Tests.ChaosLab;
using Respaldo.Tests.Faults;
using Respaldo.Tests.Lab;
using Respaldo.Tests.Smtp;
using Xunit.Abstractions;

namespace Respaldo.Tests.Faults;

/// <summary>
/// Every fault of the faulty primary, one at a time, on one message: the controller must
/// classify it as the README says (a primary that is down is probed again; a broken, stalled or
/// 4xx session defers the copy and retries it), and the message must end at the primary once,
/// or twice when the fault left the delivery ambiguous (the primary had it, the controller
/// never heard its 250): a duplicate, never a loss.
/// </summary>
[Collection(ChaosLabCollection.Name)]
public sealed class FaultyPrimaryTests(ChaosLabFixture lab, ITestOutputHelper output)
{
    /// <summary>One fault: how to stage it and what the journal must show.</summary>
    /// <param name="Down">Stage it as a phase: the primary is down this way until a probe has seen it.</param>
    /// <param name="FirstAttempt">The first hand-over attempt ("outcome stage code reply") must match this.</param>
    /// <param name="Probe">A failed probe ("stage code reply") must match this.</param>
    private sealed record Case(FaultPlan? Forced, FaultKind Down, int Copies, string? FirstAttempt, string? Probe);

    // Note: the controller pipelines MAIL, RCPT and DATA (RFC 2920) and reads the replies in
    // order, so a session lost after RCPT is reported at MAIL or RCPT, depending on whether the
    // reply to MAIL got through before the cut.
    private static readonly Dictionary<string, Case> Cases = new(StringComparer.Ordinal)
    {
        ["refuse connections"] = new(null, FaultKind.RefuseConnections, 1, null, "^Connect .*(refused|Connection refused)"),
        ["accept and stay silent"] = new(null, FaultKind.SilentAccept, 1, null, "^Greeting .*no reply within"),
        ["greet 421"] = new(null, FaultKind.Greet421, 1, null, "^Greeting 421 "),
        ["greet 554"] = new(null, FaultKind.Greet554, 1, null, "^Greeting 554 "),
        ["drop before the greeting"] = new(null, FaultKind.DropBeforeGreeting, 1, null, "^Greeting .*(closed|reset)"),
        ["drop after MAIL"] = new(new(FaultKind.DropAfterMail, FaultPoint.Mail), FaultKind.None, 1, "^deferred MailFrom .*connection lost", null),
        ["drop after RCPT"] = new(new(FaultKind.DropAfterRcpt, FaultPoint.Rcpt), FaultKind.None, 1, "^deferred (MailFrom|RcptTo) .*connection lost", null),
        ["drop in the middle of the data"] = new(new(FaultKind.DropMidData, FaultPoint.MidData, DataBytes: 100), FaultKind.None, 1, "^deferred EndOfData .*connection lost", null),
        ["drop after the final dot"] = new(new(FaultKind.DropAfterDot, FaultPoint.EndOfData), FaultKind.None, 2, "^deferred EndOfData .*connection lost", null),
        ["stall after the greeting"] = new(new(FaultKind.Stall, FaultPoint.Greeting), FaultKind.None, 1, null, null),
        ["stall after MAIL"] = new(new(FaultKind.Stall, FaultPoint.Mail), FaultKind.None, 1, "^deferred MailFrom .*no reply within 3s", null),
        ["stall in the middle of the data"] = new(new(FaultKind.Stall, FaultPoint.MidData, DataBytes: 100), FaultKind.None, 1, "^deferred EndOfData .*no reply within 15s", null),
        ["stall before the final reply"] = new(new(FaultKind.Stall, FaultPoint.EndOfData), FaultKind.None, 2, "^deferred EndOfData .*no reply within 15s", null),
        ["451 at MAIL"] = new(new(FaultKind.TransientReply, FaultPoint.Mail, Code: 451), FaultKind.None, 1, "^deferred MailFrom 451 ", null),
        ["452 at RCPT"] = new(new(FaultKind.TransientReply, FaultPoint.Rcpt, Code: 452), FaultKind.None, 1, "^deferred RcptTo 452 ", null),
        ["451 at the end of data"] = new(new(FaultKind.TransientReply, FaultPoint.EndOfData, Code: 451), FaultKind.None, 1, "^deferred EndOfData 451 ", null),
        ["421 at RCPT"] = new(new(FaultKind.TransientReply, FaultPoint.Rcpt, Code: 421), FaultKind.None, 1, "^deferred RcptTo 421 ", null),
        ["421 at the end of data"] = new(new(FaultKind.TransientReply, FaultPoint.EndOfData, Code: 421), FaultKind.None, 1, "^deferred EndOfData 421 ", null),
        ["trickle"] = new(new(FaultKind.Trickle, TrickleFor: TimeSpan.FromSeconds(2)), FaultKind.None, 1, "^delivered EndOfData 250 ", null),
    };

    /// <summary>
    /// The faults inside a transaction are staged all at once, each bound to its own message by
    /// the envelope sender; the faults at connection level (the primary down in five ways, a
    /// stall after the greeting, a trickle) one after the other, since they hit whichever
    /// connection comes next, a probe's or a hand-over's. A table of what happened is printed.
    /// </summary>
    [Fact]
    public async Task EveryFaultIsClassifiedAndEachMessageArrivesOnceOrAsAnAccountedDuplicate()
    {
        FaultyPrimary proxy = lab.Proxy;
        proxy.Up(faults: false);
        Assert.Equal(0, proxy.ForcedPending);
        var journal = new ChaosJournal(lab["JOURNAL"]);
        var primary = new MaildirCensus(lab["PRIMARY_MAILDIRS"]);
        var backup = new MaildirCensus(lab["BACKUP_MAILDIRS"]);
        primary.IgnoreExisting();
        backup.IgnoreExisting();
        var table = new List<string>();
        var failures = new List<string>();

        // Inside a transaction: all at once.
        JournalMark mark = journal.Mark();
        int ambiguousBefore = proxy.Ledger.Ambiguous.Count;
        var concurrent = Cases.Where(c => c.Value.Forced is { } p && p.Kind != FaultKind.Trickle && !(p.Kind == FaultKind.Stall && p.Point == FaultPoint.Greeting)).ToList();
        var keys = concurrent.ToDictionary(c => c.Key, c => new CopyKey($"fault.{Guid.NewGuid():N}@example.org", "info@suempresa.test"));
        var before = proxy.Ledger.ByLabel.ToDictionary(p => p.Key, p => p.Value);
        foreach ((string name, Case c) in concurrent)
        {
            proxy.Force(c.Forced!, keys[name].Sender);
        }
        await SendAsync(keys.Select(k => (k.Key, k.Value)));
        await WaitForAsync(primary, backup, concurrent.Select(c => (keys[c.Key], c.Value.Copies)));
        List<HandOverRow> rows = journal.HandOvers(mark);
        foreach ((string name, Case c) in concurrent)
        {
            CopyKey key = keys[name];
            int copies = primary.Scan(k => k == key).Count(x => x.Via == CopyPath.Respaldo);
            List<HandOverRow> story = rows.Where(r => r.Sender == key.Sender).ToList();
            int took = proxy.Ledger.ByLabel.GetValueOrDefault(c.Forced!.Label) - before.GetValueOrDefault(c.Forced.Label);
            string first = story.Count > 0 ? Attempt(story[0]) : "(none)";
            AmbiguousDelivery? ambiguous = proxy.Ledger.Ambiguous.Skip(ambiguousBefore).FirstOrDefault(a => a.Sender == key.Sender);
            table.Add($"| {name} | {Short(first)} | {story.Count} attempt(s), last {story.LastOrDefault()?.Outcome ?? "none"} | {copies} |{(ambiguous is null ? "" : $" ambiguous: the primary said {Short(ambiguous.Reply ?? "nothing yet", 30)}")}");
            Check(failures, name, copies == c.Copies, $"{copies} copies at the primary, expected {c.Copies}");
            Check(failures, name, took >= 1, "the fault never took effect");
            Check(failures, name, story.Count > 0 && story[^1].Outcome == "delivered", "not delivered in the end");
            Check(failures, name, c.FirstAttempt is null || Regex.IsMatch(first, c.FirstAttempt), $"first attempt '{first}' does not match '{c.FirstAttempt}'");
            Check(failures, name, c.Copies == 1 || ambiguous is { MayBeAtThePrimary: true }, "a duplicate the proxy did not record as ambiguous");
        }

        // At connection level: one after the other.
        foreach ((string name, Case c) in Cases.Except(concurrent))
        {
            mark = journal.Mark();
            FaultKind kind = c.Forced?.Kind ?? c.Down;
            int took = proxy.Ledger.Count(kind);
            var key = new CopyKey($"fault.{Guid.NewGuid():N}@example.org", "info@suempresa.test");
            if (c.Forced is { } plan)
            {
                proxy.Force(plan);
            }
            else
            {
                proxy.Down(c.Down);
            }
            await SendAsync([(name, key)]);
            string probe = "";
            if (c.Down == FaultKind.None)
            {
                await WaitForAsync(primary, backup, [(key, c.Copies)]);
                if (journal.Probes(mark).FirstOrDefault(p => !p.Up) is { } failed)
                {
                    probe = $"probe: {failed.Stage} {failed.Code} {failed.Reply}";
                }
            }
            else
            {
                ProbeRow? seen = await Eventually.WaitAsync(
                    () => Task.FromResult(journal.Probes(mark).FirstOrDefault(p => !p.Up && Regex.IsMatch($"{p.Stage} {p.Code} {p.Reply}", c.Probe!))),
                    p => p is not null, TimeSpan.FromSeconds(60), $"{name}: a probe that saw the primary down as '{c.Probe}'");
                probe = $"probe: {seen!.Stage} {seen.Code} {seen.Reply}";
                proxy.Up(faults: false);
            }
            await WaitForAsync(primary, backup, [(key, c.Copies)]);
            int copies = primary.Scan(k => k == key).Count(x => x.Via == CopyPath.Respaldo);
            List<HandOverRow> story = journal.HandOvers(mark).Where(r => r.Sender == key.Sender).ToList();
            table.Add($"| {name} | {Short(probe.Length > 0 ? probe : story.Count > 0 ? Attempt(story[0]) : "(none)")} | {story.Count} attempt(s), last {story.LastOrDefault()?.Outcome ?? "none"} | {copies} |");
            Check(failures, name, copies == c.Copies, $"{copies} copies at the primary, expected {c.Copies}");
            Check(failures, name, proxy.Ledger.Count(kind) > took, "the fault never took effect");
            Check(failures, name, story.Count > 0 && story[^1].Outcome == "delivered", "not delivered in the end");
            Check(failures, name, c.FirstAttempt is null || (story.Count > 0 && Regex.IsMatch(Attempt(story[0]), c.FirstAttempt)), $"first attempt does not match '{c.FirstAttempt}'");
        }

        output.WriteLine("| fault | how the controller saw it | journal | copies at the primary |");
        output.WriteLine("|---|---|---|---|");
        foreach (string line in table)
        {
            output.WriteLine(line);
        }
        await File.WriteAllLinesAsync(Path.Combine(ChaosSettings.ResultsDirectory, "chaos-faults.md"), ["| fault | how the controller saw it | journal | copies at the primary |", "|---|---|---|---|", .. table]);
        Assert.Equal(0, proxy.ForcedPending);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private async Task SendAsync(IEnumerable<(string Name, CopyKey Key)> messages)
    {
        await using ExactSmtpClient client = await ExactSmtpClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port);
        foreach ((string name, CopyKey key) in messages)
        {
            byte[] message = System.Text.Encoding.ASCII.GetBytes($"From: {key.Sender}\r\nTo: {key.Recipient}\r\nSubject: {name}\r\n\r\nfault: {name}\r\n");
            SmtpTransaction t = await client.SendAsync(key.Sender, [key.Recipient], message);
            Assert.True(t.Accepted, $"{name}: {t}");
        }
    }

    /// <summary>Waits until each key has its copies at the primary and none at the backup, then a little longer for a late extra copy.</summary>
    private static async Task WaitForAsync(MaildirCensus primary, MaildirCensus backup, IEnumerable<(CopyKey Key, int Copies)> expected)
    {
        var list = expected.ToList();
        var keys = list.Select(e => e.Key).ToHashSet();
        await Eventually.WaitAsync(() =>
        {
            var at = primary.Scan(keys.Contains).Where(c => c.Via == CopyPath.Respaldo).GroupBy(c => c.Key).ToDictionary(g => g.Key, g => g.Count());
            int waiting = backup.Scan(keys.Contains).Count;
            return Task.FromResult(list.Count(e => at.GetValueOrDefault(e.Key) < e.Copies) + waiting);
        }, n => n == 0, TimeSpan.FromSeconds(120), "every fault's message at the primary, none left at the backup");
        // Note: an extra copy would come within a retry interval (retryMaxSeconds = 2).
        await Task.Delay(TimeSpan.FromSeconds(2.5));
    }

    private static string Attempt(HandOverRow r) => $"{r.Outcome} {r.Stage} {r.Code} {r.Reply}";

    private static string Short(string s, int max = 90) => s.Length <= max ? s : s[..max] + "…";

    private static void Check(List<string> failures, string name, bool ok, string what)
    {
        if (!ok)
        {
            failures.Add($"{name}: {what}");
        }
    }
}
