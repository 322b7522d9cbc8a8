using System.Text;
using Microsoft.Data.Sqlite;
using MimeKit;
using MimeKit.Cryptography;
using Respaldo.Tests.Lab;
using Xunit.Abstractions;

namespace Respaldo.Tests.HandOver;

/// <summary>
/// The customer's whole job in the lab: the primary is down, mail arrives at the backup by
/// SMTP, the primary returns, and every copy arrives there exactly once, byte for byte what a
/// plain Postfix backup MX would have delivered, with DKIM still verifying.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class OutageAndRecoveryTests(LabFixture lab, ITestOutputHelper output)
{
    [Fact]
    public async Task HandsEveryMessageOverVerbatimOnceThePrimaryReturns()
    {
        string run = "outage" + Guid.NewGuid().ToString("N")[..8];
        List<OutgoingMessage> messages = OutageMessages.Create(run);
        int copies = messages.Sum(m => m.Recipients.Count);
        Assert.True(messages.Count >= 50, $"{messages.Count} messages");

        await lab.RunLabAsync("primary-down");
        await SendAllAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port, messages);
        Dictionary<string, (string Mailbox, string BaseName)> stored = await WaitForAsync(() => Ours(lab["BACKUP_MAILDIRS"], run), copies, "stored at the backup");
        output.WriteLine($"{messages.Count} messages, {copies} copies stored at the backup");

        DateTime primaryBack = DateTime.UtcNow;
        string primaryLog = Path.Combine(lab["LOGS"], "primary-postfix.log");
        long logFrom = new FileInfo(primaryLog).Length;
        await lab.RunLabAsync("primary-up");
        Dictionary<string, (string Mailbox, string BaseName)> handedOver = await WaitForAsync(() => Ours(lab["PRIMARY_MAILDIRS"], run), copies, "handed over to the primary");
        output.WriteLine($"all {copies} copies at the primary {(DateTime.UtcNow - primaryBack).TotalSeconds:0.0}s after it came back");
        await WaitForAsync(() => Ours(lab["BACKUP_MAILDIRS"], run), 0, "gone from the backup");

        // The real Postfix primary offers CHUNKING, so the hand-over went as BDAT: its smtpd counts
        // each session's commands when it ends ("disconnect from ... bdat=N ..."). No session in
        // this window used DATA (the plain relay below, which does, has not started yet).
        int bdats = await BdatCommandsAsync(primaryLog, logFrom, copies);
        output.WriteLine($"{bdats} BDAT commands at the primary for {copies} copies");

        // The reference: the same messages through a plain Postfix backup MX to the same primary.
        HashSet<string> respaldoFiles = [.. StoredMail.AllFiles(lab["PRIMARY_MAILDIRS"])];
        await using (RelayBackup relay = await RelayBackup.StartBesideAsync(lab))
        {
            await SendAllAsync("127.0.0.1", relay.Port, messages);
            await WaitForAsync(() => Ours(lab["PRIMARY_MAILDIRS"], run, exclude: respaldoFiles), copies, "relayed by the plain Postfix backup");
        }

        var viaRespaldo = Copies(lab["PRIMARY_MAILDIRS"], run, f => respaldoFiles.Contains(f));
        var viaRelay = Copies(lab["PRIMARY_MAILDIRS"], run, f => !respaldoFiles.Contains(f));
        Assert.Equal(copies, viaRespaldo.Count);
        Assert.Equal(copies, viaRelay.Count);
        int identical = 0;
        foreach (((string messageId, string recipient), byte[] mine) in viaRespaldo)
        {
            byte[] reference = viaRelay[(messageId, recipient)];
            byte[] a = StoredMail.WithoutPrimaryTrace(mine);
            byte[] b = StoredMail.WithoutPrimaryTrace(reference);
            Assert.True(a.AsSpan().SequenceEqual(b), $"{messageId} for {recipient} differs from plain relaying:\n--- respaldo\n{Head(a)}\n--- plain relay\n{Head(b)}");
            identical++;
        }
        output.WriteLine($"{identical} copies byte-identical to plain relaying (after the primary's own trace headers)");

        var verifier = new DkimVerifier(new OutageMessages.KeyLocator());
        int verified = 0;
        foreach (((string messageId, _), byte[] mine) in viaRespaldo.Where(c => messages.Single(m => m.MessageId == c.Key.MessageId.Trim('<', '>')).DkimSigned))
        {
            MimeMessage parsed = MimeMessage.Load(new MemoryStream(mine));
            Header signature = parsed.Headers[parsed.Headers.IndexOf(HeaderId.DkimSignature)];
            Assert.True(verifier.Verify(parsed, signature), $"DKIM of {messageId} does not verify at the primary");
            verified++;
        }
        Assert.Equal(messages.Where(m => m.DkimSigned).Sum(m => m.Recipients.Count), verified);
        output.WriteLine($"DKIM verified at the primary for {verified} copies");

        // The journal tells each copy's story: arrival, then a delivery with the primary's reply.
        using var db = new SqliteConnection($"Data Source={lab["JOURNAL"]};Mode=ReadOnly");
        db.Open();
        foreach ((string mailbox, string baseName) in stored.Values)
        {
            using SqliteCommand q = db.CreateCommand();
            q.CommandText = "SELECT (SELECT count(*) FROM arrivals WHERE mailbox=$m AND message=$b), " +
                "(SELECT group_concat(outcome || ':' || reply, '|') FROM handovers WHERE mailbox=$m AND message=$b)";
            q.Parameters.AddWithValue("$m", mailbox);
            q.Parameters.AddWithValue("$b", baseName);
            using SqliteDataReader r = q.ExecuteReader();
            Assert.True(r.Read());
            Assert.Equal(1L, r.GetInt64(0));
            string story = r.IsDBNull(1) ? "" : r.GetString(1);
            Assert.Matches("^delivered:250 .*queued as", story);
        }
        Assert.Equal(copies, handedOver.Count);
    }

    private static async Task<int> BdatCommandsAsync(string log, long from, int atLeast)
    {
        int bdats = 0;
        for (int i = 0; i < 300; i++)
        {
            using var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.Seek(from, SeekOrigin.Begin);
            string[] disconnects = [.. (await new StreamReader(stream).ReadToEndAsync()).Split('\n').Where(l => l.Contains("smtpd[", StringComparison.Ordinal) && l.Contains(": disconnect from ", StringComparison.Ordinal))];
            Assert.DoesNotContain(disconnects, l => l.Contains(" data=", StringComparison.Ordinal));
            bdats = disconnects.Select(l => System.Text.RegularExpressions.Regex.Match(l, @" bdat=(\d+)(/\d+)?")).Where(m => m.Success).Sum(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            if (bdats >= atLeast)
            {
                return bdats;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"the primary's log shows {bdats} BDAT commands for {atLeast} copies handed over");
    }

    private static string Head(byte[] b) => Encoding.Latin1.GetString(b, 0, Math.Min(b.Length, 1500));

    private static async Task SendAllAsync(string host, int port, IEnumerable<OutgoingMessage> messages)
    {
        await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(host, port);
        Assert.Equal(250, (await client.CommandAsync("EHLO client.example.org")).Code);
        foreach (OutgoingMessage m in messages)
        {
            SmtpReply mail = await client.CommandAsync($"MAIL FROM:<{m.Sender}> BODY=8BITMIME");
            Assert.True(mail.Code == 250, mail.Text);
            foreach (string r in m.Recipients)
            {
                SmtpReply rcpt = await client.CommandAsync($"RCPT TO:<{r}>");
                Assert.True(rcpt.Code == 250, rcpt.Text);
            }
            SmtpReply data = await client.DataAsync(m.Content);
            Assert.True(data.Code == 250, $"{m.Name}: {data.Text}");
        }
    }

    /// <summary>Our run's copies under a maildir root: file → (mailbox, base name).</summary>
    private static Dictionary<string, (string Mailbox, string BaseName)> Ours(string root, string run, IReadOnlySet<string>? exclude = null)
    {
        var found = new Dictionary<string, (string, string)>();
        foreach (string file in StoredMail.AllFiles(root))
        {
            if (exclude?.Contains(file) == true)
            {
                continue;
            }
            try
            {
                string? id = StoredMail.Header(File.ReadAllBytes(file), "Message-ID");
                if (id?.Contains(run, StringComparison.Ordinal) == true)
                {
                    string maildir = Path.GetDirectoryName(Path.GetDirectoryName(file))!;
                    string mailbox = $"{Path.GetFileName(maildir)}@{Path.GetFileName(Path.GetDirectoryName(maildir))}";
                    found[file] = (mailbox, Path.GetFileName(file).Split(':')[0]);
                }
            }
            catch (FileNotFoundException)
            {
                // Handed over while we looked.
            }
        }
        return found;
    }

    private static Dictionary<(string MessageId, string Recipient), byte[]> Copies(string root, string run, Func<string, bool> include)
    {
        var copies = new Dictionary<(string, string), byte[]>();
        foreach (string file in StoredMail.AllFiles(root).Where(include))
        {
            byte[] content = File.ReadAllBytes(file);
            string? id = StoredMail.Header(content, "Message-ID");
            if (id?.Contains(run, StringComparison.Ordinal) == true)
            {
                string recipient = StoredMail.Header(content, "Delivered-To")!;
                Assert.True(copies.TryAdd((id, recipient), content), $"{id} arrived twice for {recipient}");
            }
        }
        return copies;
    }

    private static async Task<Dictionary<string, (string Mailbox, string BaseName)>> WaitForAsync(
        Func<Dictionary<string, (string, string)>> look, int count, string what)
    {
        Dictionary<string, (string, string)> found = [];
        for (int i = 0; i < 1200; i++)
        {
            found = look();
            if (found.Count == count)
            {
                return found;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"expected {count} copies {what}, found {found.Count}");
    }
}
