using System.Globalization;
using Respaldo.Tests.ChaosLab;
using Respaldo.Tests.Faults;
using Respaldo.Tests.Lab;
using Respaldo.Tests.Smtp;
using Xunit.Abstractions;

namespace Respaldo.Tests.FullDisk;

/// <summary>
/// Issue 4's full disk: the state directory (maildirs and journal) on a 40 MiB tmpfs, the primary down, 1 MiB messages until
/// the disk is full. The backup must then answer 452 (never 250 and lose it, never 5xx), keep
/// every message it accepted intact, and take mail again once the hand-over has freed the space.
/// </summary>
[Collection(FullDiskLabCollection.Name)]
public sealed class FullDiskTests(FullDiskLabFixture lab, ITestOutputHelper output)
{
    private const int MessageSize = 1 << 20;
    private const string Recipient = "info@suempresa.test";

    [Fact]
    public async Task AFullDiskAnswers452KeepsWhatItAcceptedAndAcceptsAgainAfterTheHandOver()
    {
        string run = "d" + Guid.NewGuid().ToString("N")[..8];
        FaultyPrimary proxy = lab.Proxy;
        var primary = new MaildirCensus(lab["PRIMARY_MAILDIRS"]);
        var backup = new MaildirCensus(lab["BACKUP_MAILDIRS"]);
        var held = new MaildirCensus(lab["HOLD_DIR"], maildirsOnly: false);
        string maildirs = lab["BACKUP_MAILDIRS"];
        Assert.Equal(Path.Combine(lab.StateRoot, "maildirs"), maildirs);
        Assert.Equal(lab.StateRoot, Path.GetDirectoryName(lab["JOURNAL"]));
        long limit = (FullDiskLabFixture.SizeMiB + 1L) << 20;
        Assert.True(new DriveInfo(maildirs).TotalSize <= limit, "the maildirs are not on the small file system");

        // The primary is down; 1 MiB messages, one after the other, until the backup says no.
        proxy.Down(FaultKind.RefuseConnections);
        var accepted = new Dictionary<CopyKey, string>();
        SmtpTransaction? full = null;
        try
        {
            for (int i = 0; i < 3 * FullDiskLabFixture.SizeMiB && full is null; i++)
            {
                (CopyKey key, byte[] content) = Message(run, i);
                SmtpTransaction t = await SendAsync(key, content);
                if (t.Accepted)
                {
                    accepted[key] = StoredCopies.HashOfSent(content);
                    await Eventually.WaitAsync(() => Task.FromResult(backup.Scan(k => k == key).Count), n => n == 1, TimeSpan.FromSeconds(60), $"message {i} stored");
                }
                else
                {
                    full = t;
                }
            }
            Assert.True(full is not null, $"{accepted.Count} MiB accepted on a {FullDiskLabFixture.SizeMiB} MiB file system and never refused");
            long free = new DriveInfo(maildirs).AvailableFreeSpace;
            output.WriteLine($"full after {accepted.Count} messages of 1 MiB: {full}; {free / 1024} KiB free on the maildirs' file system");
            Assert.True(full.Last.Code == 452 && full.Last.Text.Contains("4.3.1", StringComparison.Ordinal), $"expected 452 4.3.1, got {full}");
            Assert.True(free < (FullDiskLabFixture.MinimumFreeMiB << 20) + MessageSize, $"refused with {free} bytes free: not the disk that was full");
            Assert.True(accepted.Count >= FullDiskLabFixture.SizeMiB - FullDiskLabFixture.MinimumFreeMiB - 6, $"only {accepted.Count} messages accepted before 452");

            // Full stays full: more mail is refused the same way, none of it half-stored.
            for (int i = 0; i < 3; i++)
            {
                (CopyKey key, byte[] content) = Message(run, 1000 + i);
                SmtpTransaction again = await SendAsync(key, content);
                Assert.True(!again.Accepted && again.Last.Code == 452, $"while full: {again}");
            }

            // Every accepted message is still there, intact.
            List<StoredCopy> stored = backup.Scan(accepted.ContainsKey);
            Assert.Equal(accepted.Count, stored.Count);
            foreach (StoredCopy c in stored)
            {
                Assert.True(StoredCopies.ContentHash(File.ReadAllBytes(c.File)) == accepted[c.Key], $"{c.Key}: stored copy differs from what was sent");
            }
        }
        finally
        {
            proxy.Up(faults: false);
        }

        // The primary is back: the hand-over empties the disk, and the backup takes mail again.
        await Eventually.WaitAsync(() => Task.FromResult(backup.Scan(accepted.ContainsKey).Count), n => n == 0, TimeSpan.FromMinutes(3), "the hand-over freed the space");
        (CopyKey afterKey, byte[] afterContent) = Message(run, 2000);
        SmtpTransaction after = await Eventually.WaitAsync(() => SendAsync(afterKey, afterContent), t => t.Accepted || !t.Last.IsTransient, TimeSpan.FromSeconds(60), "accepted again");
        Assert.True(after.Accepted, $"after the hand-over: {after}");
        accepted[afterKey] = StoredCopies.HashOfSent(afterContent);
        await Eventually.WaitAsync(() => Task.FromResult(primary.Scan(accepted.ContainsKey).Select(c => c.Key).Distinct().Count()), n => n == accepted.Count,
            TimeSpan.FromMinutes(2), "every accepted message at the primary");

        List<StoredCopy> atPrimary = primary.Scan(accepted.ContainsKey);
        foreach (StoredCopy c in atPrimary)
        {
            Assert.True(StoredCopies.ContentHash(File.ReadAllBytes(c.File)) == accepted[c.Key], $"{c.Key}: the primary's copy differs from what was sent");
        }
        int lost = accepted.Keys.Count(k => atPrimary.All(c => c.Key != k));
        int heldCount = held.Scan(accepted.ContainsKey).Count;
        string figures = string.Join('\n',
            $"full disk: state directory (maildirs, journal) on a {FullDiskLabFixture.SizeMiB} MiB tmpfs, storage.minimumFree {FullDiskLabFixture.MinimumFreeMiB} MiB",
            $"  accepted    {accepted.Count - 1} messages of 1 MiB, then: {full!.Last.OneLine} (at {full.Last.Stage}), and 3 more refused alike",
            $"  kept        all {accepted.Count - 1} intact at the backup while full (content hash checked)",
            $"  after       hand-over emptied the disk; the next message: {after.Last.OneLine}",
            $"  primary     {atPrimary.Count} copies of {accepted.Count} accepted, {atPrimary.Count - atPrimary.Select(c => c.Key).Distinct().Count()} duplicates, {heldCount} held, lost {lost}");
        output.WriteLine(figures);
        Console.Error.WriteLine(figures);
        await File.WriteAllTextAsync(Path.Combine(ChaosSettings.ResultsDirectory, "chaos-full-disk.txt"), figures + "\n");
        Assert.Equal(0, lost);
        Assert.Equal(0, heldCount);
        Assert.Equal(accepted.Count, atPrimary.Count);
    }

    /// <summary>
    /// One message, retried like an MTA while the front door answers "not ready" (451 4.3.0:
    /// its first scan of the maildirs has not finished, which on a loaded machine can outlast
    /// the lab's start); any other answer is the one under test.
    /// </summary>
    private Task<SmtpTransaction> SendAsync(CopyKey key, byte[] content) =>
        new SmtpRetry { Attempts = 30, Delay = TimeSpan.FromSeconds(2) }.SendAsync(
            _ => SendOnceAsync(lab.BackupSmtp, key, content),
            again: t => !t.Accepted && t.Last.Code == 451 && t.Last.Text.Contains("4.3.0", StringComparison.Ordinal),
            beforeRetry: (_, t) =>
            {
                output.WriteLine($"not ready yet ({t.Last}); again in 2 s");
                return Task.CompletedTask;
            });

    private static async Task<SmtpTransaction> SendOnceAsync((string Host, int Port) backup, CopyKey key, byte[] content)
    {
        await using ExactSmtpClient client = await ExactSmtpClient.ConnectAsync(backup.Host, backup.Port);
        Assert.True(client.Ready, client.Greeting.ToString());
        return await client.SendAsync(key.Sender, [key.Recipient], content);
    }

    private static (CopyKey Key, byte[] Content) Message(string run, int i)
    {
        var key = new CopyKey(string.Create(CultureInfo.InvariantCulture, $"disk.{run}.{i}@example.org"), Recipient);
        return (key, ChaosMail.Content(run, i, [Recipient], MessageSize, i, eightBit: false));
    }
}
