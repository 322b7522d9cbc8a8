using System.Text;
using Mono.Unix.Native;
using Respaldo.Tests.Lab;
using Xunit.Abstractions;

namespace Respaldo.Tests.HandOver;

/// <summary>
/// Issue 16, in the lab: whoever runs as the mail user (any Dovecot mail process) can put a
/// FIFO, a directory or a symlink into a mailbox's new/. Before, the FIFO blocked the hand-over
/// in open(2) forever, silently, and the tenant never handed anything over again. Now each is
/// left alone and reported once, and the real messages beside them all reach the primary.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class StrayFileTests(LabFixture lab, ITestOutputHelper output)
{
    [Fact]
    public async Task AFifoADirectoryAndASymlinkInAMailboxDoNotStopTheHandOverOfTheMessagesBesideThem()
    {
        string run = "stray" + Guid.NewGuid().ToString("N")[..8];
        string secret = "SECRET-" + run;
        string newDir = Path.Combine(lab["BACKUP_MAILDIRS"], "suempresa.test", "info", "new");
        // Note: older than any real message, so that the hand-over (oldest first) meets them first.
        string fifo = Path.Combine(newDir, "1000000001.M1P1.stray,S=120,W=122");
        string dir = Path.Combine(newDir, "1000000002.M1P1.stray,S=120,W=122");
        string link = Path.Combine(newDir, "1000000003.M1P1.stray,S=120,W=122");
        string outside = Path.Combine(lab.Directory, $"outside-{run}.eml");
        try
        {
            await lab.RunLabAsync("primary-down");
            await using (SmtpTestClient client = await SmtpTestClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port))
            {
                await client.CommandAsync("EHLO client.example.org");
                for (int i = 0; i < 3; i++)
                {
                    Assert.Equal(250, (await client.SendAsync("a@example.org", ["info@suempresa.test"],
                        Encoding.ASCII.GetBytes($"Subject: {run} {i}\nMessage-ID: <{run}.{i}@example.org>\n\n{run}\n"))).Code);
                }
            }
            await WaitForAsync(() => Ours(lab.BackupMessages("info@suempresa.test"), run) == 3, "stored at the backup");

            await File.WriteAllTextAsync(outside, $"Return-Path: <a@example.org>\nDelivered-To: info@suempresa.test\n\nSubject: {secret}\n\n{secret}\n");
            Assert.Equal(0, Syscall.mkfifo(fifo, FilePermissions.S_IRUSR | FilePermissions.S_IWUSR));
            Directory.CreateDirectory(dir);
            File.CreateSymbolicLink(link, outside);

            await lab.RunLabAsync("primary-up");
            await WaitForAsync(() => Ours(lab.PrimaryMessages("info@suempresa.test"), run) == 3, "handed over to the primary", TimeSpan.FromSeconds(60));

            Assert.Equal(0, Ours(lab.PrimaryMessages("info@suempresa.test"), secret));
            Assert.True(new FileInfo(fifo).Exists, "the FIFO was removed");
            Assert.True(Directory.Exists(dir), "the directory was removed");
            Assert.Equal(outside, new FileInfo(link).LinkTarget);
            Assert.Contains(secret, await File.ReadAllTextAsync(outside), StringComparison.Ordinal);

            string log = await File.ReadAllTextAsync(Path.Combine(lab["LOGS"], "controller.log"));
            foreach ((string path, string what) in new[] { (fifo, "a FIFO"), (dir, "a directory"), (link, "a symbolic link") })
            {
                List<string> lines = log.Split('\n').Where(l => l.Contains(Path.GetFileName(path), StringComparison.Ordinal) && l.Contains("not a message", StringComparison.Ordinal)).ToList();
                output.WriteLine(string.Join("\n", lines));
                Assert.True(lines.Count == 1, $"{what}: {lines.Count} report lines, expected one");
                Assert.Contains("tenant suempresa mailbox info@suempresa.test", lines[0], StringComparison.Ordinal);
                Assert.Contains(what, lines[0], StringComparison.Ordinal);
            }
        }
        finally
        {
            // Note: the lab is shared with other tests, which read every file in the maildirs.
            File.Delete(fifo);
            File.Delete(link);
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir);
            }
            await lab.RunLabAsync("primary-up", check: false);
        }
    }

    private static int Ours(IEnumerable<string> files, string marker) =>
        files.Count(f => (new FileInfo(f).Attributes & FileAttributes.ReparsePoint) == 0
            && MaildirEntryIsRegular(f) && File.ReadAllText(f).Contains(marker, StringComparison.Ordinal));

    private static bool MaildirEntryIsRegular(string path) =>
        Syscall.lstat(path, out Stat st) == 0 && (st.st_mode & FilePermissions.S_IFMT) == FilePermissions.S_IFREG;

    private static async Task WaitForAsync(Func<bool> condition, string what, TimeSpan? within = null)
    {
        DateTime until = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(30));
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, $"not {what} in time");
            await Task.Delay(100);
        }
    }
}
