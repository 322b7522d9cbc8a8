using System.Text;
using Mono.Unix.Native;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Isolation;

/// <summary>
/// Issue 16, item 11, in the lab: Dovecot's mail processes (LMTP, IMAP) run as the mail user
/// (LAB_MAIL_USER), never as the daemon's user. Before, both were one user: a compromised mail
/// process could read the submission password (which sent as anyone), the web session keys
/// (enough to forge an admin cookie) and the journal. Now each of those is refused to the mail
/// user, while the daemon's user, a member of the mail user's group, still renames and deletes
/// what Dovecot stored. Each process here is a real one under setpriv, as that user.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class MailUserIsolationTests(LabFixture lab)
{
    private Task<ProcessRunner.Result> AsMailUser(params string[] command) =>
        ProcessRunner.RunAsync("setpriv", [$"--reuid={lab["MAIL_USER"]}", $"--regid={lab["MAIL_USER"]}", "--clear-groups", .. command]);

    private Task<ProcessRunner.Result> AsDaemonUser(params string[] command) =>
        ProcessRunner.RunAsync("setpriv", [$"--reuid={lab["DAEMON_USER"]}", $"--regid={lab["DAEMON_USER"]}", "--init-groups", .. command]);

    [Fact]
    public async Task AMailProcessCannotReadTheJournalTheSubmissionPasswordOrTheWebSessionKeys()
    {
        // Note: a form with an anti-forgery token makes the daemon create its first key, if no
        // earlier test has.
        using (var http = new HttpClient())
        {
            (await http.GetAsync(new Uri(lab["WEBMAIL_URL"]))).EnsureSuccessStatusCode();
        }
        string state = lab["STATE_DIR"];
        string keys = Path.Combine(state, "web-keys");
        string[] keyFiles = Directory.GetFiles(keys);
        Assert.NotEmpty(keyFiles);
        string password = Path.Combine(state, "secrets", "submission.password");
        Assert.True(File.Exists(password), "render made no submission password");

        string[] secrets = [lab["JOURNAL"], password, Path.Combine(state, "secrets", "submission.passwd"), keyFiles[0]];
        foreach (string file in secrets)
        {
            ProcessRunner.Result read = await AsMailUser("cat", file);
            Assert.True(read.ExitCode != 0 && read.Output.Length == 0, $"the mail user read {file}: {read}");
            Assert.Contains("Permission denied", read.Error, StringComparison.Ordinal);
        }
        foreach (string directory in new[] { state, keys, lab["HOLD_DIR"] })
        {
            if (!Directory.Exists(directory))
            {
                continue;
            }
            ProcessRunner.Result list = await AsMailUser("ls", "-a", directory);
            Assert.True(list.ExitCode != 0, $"the mail user listed {directory}: {list}");
        }

        // The same process reaches its own maildirs: the refusals above are the permissions', not setpriv's.
        ProcessRunner.Result own = await AsMailUser("ls", lab["BACKUP_MAILDIRS"]);
        Assert.True(own.ExitCode == 0, own.ToString());
        // And the daemon's user reads the password it sends with.
        ProcessRunner.Result daemon = await AsDaemonUser("cat", password);
        Assert.True(daemon.ExitCode == 0 && daemon.Output.Trim().Length > 0, daemon.ToString());
    }

    [Fact]
    public async Task WhatDovecotStoresIsTheMailGroupsSoTheDaemonsUserRenamesAndDeletesIt()
    {
        string run = "uid" + Guid.NewGuid().ToString("N")[..8];
        // Note: every maildir of this lab was made by Dovecot (LabFixture makes none).
        const string address = "ventas@suempresa.test";
        string maildir = Path.Combine(lab["BACKUP_MAILDIRS"], "suempresa.test", "ventas");
        try
        {
            await lab.RunLabAsync("primary-down");
            await using (SmtpTestClient client = await SmtpTestClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port))
            {
                await client.CommandAsync("EHLO client.example.org");
                SmtpReply reply = await client.SendAsync("a@example.org", [address], Encoding.ASCII.GetBytes($"Subject: {run}\nMessage-ID: <{run}@example.org>\n\n{run}\n"));
                Assert.True(reply.Code == 250, $"the backup refused {address}: {reply}");
            }
            string? stored = null;
            for (int i = 0; i < 300 && stored is null; i++)
            {
                stored = LabFixture.Messages(lab["BACKUP_MAILDIRS"], address).FirstOrDefault(f => File.ReadAllText(f).Contains(run, StringComparison.Ordinal));
                if (stored is null)
                {
                    await Task.Delay(100);
                }
            }
            Assert.True(stored is not null, $"nothing stored for {address}");

            uint mailGid = Syscall.getgrnam(lab["MAIL_USER"])!.gr_gid;
            foreach (string directory in new[] { maildir, Path.GetDirectoryName(stored)! })
            {
                Assert.Equal(0, Syscall.stat(directory, out Stat st));
                Assert.True(st.st_gid == mailGid, $"{directory} has group {st.st_gid}, not {lab["MAIL_USER"]}'s {mailGid}");
                Assert.Equal("2770", Convert.ToString((int)st.st_mode & 0xFFF, 8));
            }
            Assert.Equal(0, Syscall.stat(stored, out Stat file));
            Assert.True(file.st_gid == mailGid, $"{stored} has group {file.st_gid}");
            Assert.Equal("660", Convert.ToString((int)file.st_mode & 0x1FF, 8));

            // Someone outside the group cannot touch it; the daemon's user renames and deletes it.
            string renamed = stored + ".renamed";
            ProcessRunner.Result stranger = await ProcessRunner.RunAsync("setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "mv", stored, renamed]);
            Assert.True(stranger.ExitCode != 0 && File.Exists(stored), $"nobody moved {stored}: {stranger}");
            ProcessRunner.Result move = await AsDaemonUser("mv", stored, renamed);
            Assert.True(move.ExitCode == 0, $"the daemon's user could not rename {stored}: {move}");
            ProcessRunner.Result delete = await AsDaemonUser("rm", renamed);
            Assert.True(delete.ExitCode == 0, $"the daemon's user could not delete {renamed}: {delete}");
            Assert.False(File.Exists(renamed));
        }
        finally
        {
            await lab.RunLabAsync("primary-up", check: false);
        }
    }
}
