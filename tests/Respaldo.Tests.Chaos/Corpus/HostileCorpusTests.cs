using System.Globalization;
using System.Text;
using Respaldo.Tests.ChaosLab;
using Respaldo.Tests.Corpus;
using Respaldo.Tests.Faults;
using Respaldo.Tests.Lab;
using Respaldo.Tests.Smtp;
using Xunit.Abstractions;

namespace Respaldo.Tests.Corpus;

/// <summary>
/// Every message of the hostile corpus (tests/corpus/hostile) goes to the backup while the
/// primary is down; then the primary returns. Each must meet its manifest line: refused at SMTP
/// time with the expected reply; or held with the expected reason (its bytes untouched in the
/// hold area); or at the primary exactly once and byte for byte what a plain Postfix backup MX
/// delivers from the same bytes (the verbatim rule, as in OutageAndRecoveryTests). Nothing else
/// may appear at the primary (a smuggled message would). A table is printed, and the accepted
/// messages are listed for the browser tier (webmail and dashboard must open each one).
/// </summary>
[Collection(ChaosLabCollection.Name)]
public sealed class HostileCorpusTests(ChaosLabFixture lab, ITestOutputHelper output)
{
    [Fact]
    public async Task EachHostileMessageIsRefusedHeldOrDeliveredVerbatimAsItsManifestSays()
    {
        HostileCorpus corpus = HostileCorpus.Load(ChaosSettings.CorpusDirectory);
        Assert.True(corpus.Entries.Count >= 40, $"{corpus.Entries.Count} corpus messages");
        string run = "h" + Guid.NewGuid().ToString("N")[..8];
        List<OutgoingMail> mails = corpus.Entries.Select(e => ChaosMail.FromCorpus(e, run)).ToList();
        FaultyPrimary proxy = lab.Proxy;
        var primary = new MaildirCensus(lab["PRIMARY_MAILDIRS"]);
        var backup = new MaildirCensus(lab["BACKUP_MAILDIRS"]);
        var held = new MaildirCensus(lab["HOLD_DIR"], maildirsOnly: false);
        primary.IgnoreExisting();
        backup.IgnoreExisting();
        held.IgnoreExisting();
        var journal = new ChaosJournal(lab["JOURNAL"]);
        JournalMark mark = journal.Mark();

        // The primary is down: everything stays at the backup.
        proxy.Down(FaultKind.RefuseConnections);
        var replies = new Dictionary<string, SmtpTransaction>(StringComparer.Ordinal);
        try
        {
            foreach (OutgoingMail m in mails)
            {
                await using ExactSmtpClient client = await ExactSmtpClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port);
                Assert.True(client.Ready, client.Greeting.ToString());
                replies[m.Name] = await client.SendAsync(m.Sender, m.RecipientBytes, m.Parameters, m.Content());
            }
            var accepted = mails.Where(m => replies[m.Name].Accepted).ToList();
            var acceptedKeys = accepted.SelectMany(m => m.Keys).ToHashSet();
            await Eventually.WaitAsync(() => Task.FromResult(backup.Scan(acceptedKeys.Contains).Count), n => n == acceptedKeys.Count,
                TimeSpan.FromMinutes(2), "every accepted corpus copy stored at the backup");
            await ExportForBrowserTestsAsync(accepted, backup.Scan(acceptedKeys.Contains));
        }
        finally
        {
            proxy.Up(faults: false);
        }

        // The primary returns: each accepted copy is handed over or held.
        var expectedKeys = mails.Where(m => replies[m.Name].Accepted).SelectMany(m => m.Keys).ToHashSet();
        await Eventually.WaitAsync(
            () => Task.FromResult(expectedKeys.Count(k => !primary.Scan(x => x == k).Any(c => c.Via == CopyPath.Respaldo) && held.Scan(x => x == k).Count == 0) + backup.Scan(expectedKeys.Contains).Count),
            n => n == 0, TimeSpan.FromMinutes(3), "every accepted corpus copy at the primary or held");

        // The reference: the same bytes through a plain Postfix backup.
        List<OutgoingMail> relayed = mails.Where(m => m.Corpus!.Expect.Outcome != CorpusOutcome.Refused).ToList();
        Dictionary<CopyKey, StoredCopy> reference = await ReferenceRelay.RelayAsync(lab, relayed, primary);

        List<StoredCopy> mine = primary.Scan().Where(c => c.Via == CopyPath.Respaldo).ToList();
        var strays = mine.Where(c => !expectedKeys.Contains(c.Key)).Select(c => c.Key).ToList();
        var holds = journal.Holds(mark);
        var table = new List<string> { "| message | what it tests | the backup's reply | outcome |", "|---|---|---|---|" };
        var failures = new List<string>();
        foreach (OutgoingMail m in mails)
        {
            CorpusEntry e = m.Corpus!;
            SmtpTransaction reply = replies[m.Name];
            string outcome;
            switch (e.Expect.Outcome)
            {
                case CorpusOutcome.Refused:
                    bool refusedAsSaid = !reply.Accepted && reply.Last.Code == e.Expect.Code
                        && reply.Last.Text.Contains(e.Expect.Fragment, StringComparison.OrdinalIgnoreCase);
                    outcome = refusedAsSaid ? $"refused at {reply.Last.Stage}, as expected" : "NOT AS EXPECTED";
                    Check(failures, m.Name, refusedAsSaid, $"expected {e.Expect}, got {reply}");
                    break;
                case CorpusOutcome.Held:
                    outcome = CheckHeld(m, reply, held, holds, reference, failures);
                    break;
                default:
                    outcome = CheckDelivered(m, reply, mine, reference, failures);
                    break;
            }
            string tests = e.Tests.Length <= 110 ? e.Tests : e.Tests[..110] + "…";
            table.Add($"| {m.Name} | {tests} | {reply.Last.OneLine} | {outcome} |");
        }
        Check(failures, "(strays)", strays.Count == 0, $"copies at the primary that no corpus message explains (smuggled?): {string.Join(", ", strays)}");

        foreach (string line in table)
        {
            output.WriteLine(line);
        }
        int delivered = mails.Count(m => m.Corpus!.Expect.Outcome == CorpusOutcome.Delivered);
        int refused = mails.Count(m => m.Corpus!.Expect.Outcome == CorpusOutcome.Refused);
        int heldCount = mails.Count - delivered - refused;
        string summary = $"hostile corpus: {mails.Count} messages: {delivered} delivered verbatim, {refused} refused at SMTP time, {heldCount} held with a reason; {failures.Count} not as the manifest says";
        output.WriteLine(summary);
        await File.WriteAllLinesAsync(Path.Combine(ChaosSettings.ResultsDirectory, "hostile-corpus.md"), [.. table, "", summary]);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static string CheckDelivered(OutgoingMail m, SmtpTransaction reply, List<StoredCopy> mine, Dictionary<CopyKey, StoredCopy> reference, List<string> failures)
    {
        if (!reply.Accepted)
        {
            Check(failures, m.Name, false, $"expected to be accepted, got {reply}");
            return "REFUSED";
        }
        long bytes = 0;
        foreach (CopyKey key in m.Keys)
        {
            var copies = mine.Where(c => c.Key == key).ToList();
            if (copies.Count != 1)
            {
                Check(failures, m.Name, false, $"{copies.Count} copies at the primary for {key.Recipient}, expected exactly one");
                return "NOT ONCE";
            }
            byte[] a = StoredMail.WithoutPrimaryTrace(File.ReadAllBytes(copies[0].File));
            byte[] b = StoredMail.WithoutPrimaryTrace(File.ReadAllBytes(reference[key].File));
            if (!a.AsSpan().SequenceEqual(b))
            {
                int at = a.AsSpan().CommonPrefixLength(b);
                Check(failures, m.Name, false, $"for {key.Recipient} differs from plain relaying at octet {at}: " +
                    $"respaldo \"{Excerpt(a, at)}\" vs plain relay \"{Excerpt(b, at)}\"");
                return "DIFFERS";
            }
            bytes = a.Length;
        }
        return string.Create(CultureInfo.InvariantCulture, $"at the primary once{(m.Recipients.Count > 1 ? " per recipient" : "")}, identical to plain relaying ({bytes:N0} octets)");
    }

    private static string CheckHeld(OutgoingMail m, SmtpTransaction reply, MaildirCensus held, List<HoldRow> holds, Dictionary<CopyKey, StoredCopy> reference, List<string> failures)
    {
        if (!reply.Accepted)
        {
            Check(failures, m.Name, false, $"expected to be accepted and held, got {reply}");
            return "REFUSED";
        }
        foreach (CopyKey key in m.Keys)
        {
            StoredCopy? file = held.Scan(k => k == key).SingleOrDefault();
            HoldRow? row = holds.FirstOrDefault(h => h.Sender == key.Sender && h.Recipient == key.Recipient);
            Check(failures, m.Name, file is not null, "not in the hold area");
            Check(failures, m.Name, row is not null && row.Reason.Contains(m.Corpus!.Expect.Fragment, StringComparison.Ordinal),
                $"hold reason '{row?.Reason}' does not say '{m.Corpus!.Expect.Fragment}'");
            if (file is not null)
            {
                Check(failures, m.Name, StoredCopies.ContentHash(File.ReadAllBytes(file.File)) == StoredCopies.ContentHash(File.ReadAllBytes(reference[key].File)),
                    "the held copy's content differs from what a plain relay delivers");
            }
            if (row is not null)
            {
                return $"held: {row.Reason}";
            }
        }
        return "NOT HELD";
    }

    /// <summary>
    /// The hook for the browser tier: which corpus messages the backup accepted, where they are
    /// stored and how to find them (envelope, Message-ID, Subject), so that a browser test can
    /// open each one in the webmail and see it counted on the dashboard. A browser test deposits
    /// its own copies the same way (HostileCorpus + ExactSmtpClient, primary down).
    /// </summary>
    private static async Task ExportForBrowserTestsAsync(List<OutgoingMail> accepted, List<StoredCopy> stored)
    {
        var lines = new List<string> { "# name\toutcome\tsender\trecipient\tmessage-id\tsubject\tstored as" };
        foreach (OutgoingMail m in accepted)
        {
            byte[] content = m.Content();
            string head = Encoding.UTF8.GetString(content.AsSpan(0, Math.Min(4096, content.Length)));
            foreach (CopyKey key in m.Keys)
            {
                string file = stored.FirstOrDefault(s => s.Key == key)?.File ?? "";
                lines.Add(string.Join('\t', m.Name, m.Corpus!.Expect.Outcome.ToString().ToLowerInvariant(), key.Sender, key.Recipient,
                    Field(head, "Message-ID"), Field(head, "Subject"), Path.GetFileName(file)));
            }
        }
        await File.WriteAllLinesAsync(Path.Combine(ChaosSettings.ResultsDirectory, "hostile-corpus-accepted.tsv"), lines);
    }

    private static string Field(string head, string name)
    {
        foreach (string line in head.Split('\n'))
        {
            if (line.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))
            {
                return new string(line[(name.Length + 1)..].Trim().Where(c => !char.IsControl(c)).Take(120).ToArray());
            }
            if (line.TrimEnd('\r').Length == 0)
            {
                break;
            }
        }
        return "";
    }

    private static string Excerpt(byte[] b, int at) =>
        Encoding.Latin1.GetString(b, Math.Max(0, at - 20), Math.Min(60, b.Length - Math.Max(0, at - 20))).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static void Check(List<string> failures, string name, bool ok, string what)
    {
        if (!ok)
        {
            failures.Add($"{name}: {what}");
        }
    }
}
