using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using MailKit;
using MailKit.Net.Imap;
using MimeKit;
using Respaldo.Tests.Lab;
using Xunit.Abstractions;

namespace Respaldo.Tests.HandOver;

/// <summary>
/// Issue 16, item 4, in the lab: RCPT TO at the primary came from the stored Delivered-To, so a
/// file that a mailbox user got into a maildir (an IMAP APPEND, or a delivery over the
/// unauthenticated loopback LMTP port) was handed over to any address at a primary that trusts
/// its backup. Now the hand-over holds a file whose Delivered-To is not its own mailbox's, IMAP
/// cannot APPEND, and LMTP is a unix socket only Postfix may open.
/// </summary>
[Collection(LabCollection.Name)]
public sealed partial class PlantedMessageTests(LabFixture lab, ITestOutputHelper output)
{
    [Fact]
    public async Task AFileWithAForgedDeliveredToPlantedIntoAMailboxIsHeldNotDeliveredToTheForgedAddress()
    {
        string run = "planted" + Guid.NewGuid().ToString("N")[..8];
        // Note: ventas@ is a mailbox at the lab's primary: before the fix the file reached it there.
        string content =
            "Return-Path: <boss@suempresa.test>\nDelivered-To: ventas@suempresa.test\n" +
            "Received: from mail-backup.suempresa.test\n\tby mail-backup.suempresa.test with LMTP\n\tid x\n\tfor <ventas@suempresa.test>; Fri, 27 Nov 2026 10:00:00 +0000\n" +
            $"From: boss@suempresa.test\nTo: ventas@suempresa.test\nSubject: {run}\nMessage-ID: <{run}@suempresa.test>\n\n{run}\n";
        string name = $"1795805199.M1P1.{run},S={content.Length}";
        string planted = Path.Combine(lab["BACKUP_MAILDIRS"], "suempresa.test", "info", "new", name);
        string held = Path.Combine(lab["HOLD_DIR"], "suempresa", "info@suempresa.test", name);
        try
        {
            // Note: Dovecot makes the maildir on first delivery; a fresh lab may not have it yet.
            await using (SmtpTestClient client = await SmtpTestClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port))
            {
                await client.CommandAsync("EHLO client.example.org");
                Assert.Equal(250, (await client.SendAsync("a@example.org", ["info@suempresa.test"], Encoding.ASCII.GetBytes($"Subject: first {run}\n\n{run}\n"))).Code);
            }
            await Eventually.WaitAsync(() => Task.FromResult(Directory.Exists(Path.GetDirectoryName(planted))), e => e, TimeSpan.FromSeconds(30), "the maildir made by Dovecot");
            await File.WriteAllTextAsync(planted, content);
            object?[]? row = await Eventually.WaitAsync(
                () => Task.FromResult(LabJournal.Query(lab["JOURNAL"], $"SELECT reason, recipient FROM holds WHERE message = '{name}'").FirstOrDefault()),
                r => r is not null, TimeSpan.FromSeconds(60), "the planted file held");
            output.WriteLine($"held: {row![0]}");
            Assert.Contains("Delivered-To is not info@suempresa.test", (string)row[0]!, StringComparison.Ordinal);
            Assert.Equal("ventas@suempresa.test", row[1]);
            Assert.DoesNotContain(lab.PrimaryMessages("ventas@suempresa.test"), f => File.ReadAllText(f).Contains(run, StringComparison.Ordinal));
            Assert.DoesNotContain(lab.PrimaryMessages("info@suempresa.test"), f => File.ReadAllText(f).Contains($"Subject: {run}", StringComparison.Ordinal));
        }
        finally
        {
            if (File.Exists(planted))
            {
                File.Delete(planted);
            }
            foreach (string f in Directory.Exists(Path.GetDirectoryName(held)) ? Directory.EnumerateFiles(Path.GetDirectoryName(held)!, name + "*") : [])
            {
                File.Delete(f);
            }
        }
    }

    [Fact]
    public async Task AnImapAppendIntoABackupMailboxIsRefused()
    {
        string run = "append" + Guid.NewGuid().ToString("N")[..8];
        string[] imap = lab["IMAP"].Split(':');
        using var client = new ImapClient();
        await client.ConnectAsync(imap[0], int.Parse(imap[1], System.Globalization.CultureInfo.InvariantCulture), MailKit.Security.SecureSocketOptions.None);
        await client.AuthenticateAsync(lab["WEBMAIL_USER"], lab["WEBMAIL_PASSWORD"]);
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("boss@suempresa.test"));
        message.To.Add(MailboxAddress.Parse("ventas@suempresa.test"));
        message.Subject = run;
        message.Headers.Insert(0, "Delivered-To", "ventas@suempresa.test");
        message.Headers.Insert(0, "Return-Path", "<boss@suempresa.test>");
        message.Body = new TextPart("plain") { Text = run };
        var e = await Assert.ThrowsAsync<ImapCommandException>(() => client.Inbox.AppendAsync(message));
        output.WriteLine($"APPEND: {e.Response} {e.ResponseText}");
        Assert.Equal(ImapCommandResponse.No, e.Response);
        // What the webmail does still works: select, read, mark as read.
        await client.Inbox.OpenAsync(FolderAccess.ReadWrite);
        Assert.DoesNotContain(lab.BackupMessages(lab["WEBMAIL_USER"]), f => File.ReadAllText(f).Contains(run, StringComparison.Ordinal));
        await client.DisconnectAsync(true);
    }

    [Fact]
    public async Task DovecotListensOnNoLmtpPortAndItsLmtpSocketIsPostfixsAlone()
    {
        string master = (await File.ReadAllTextAsync(lab["DOVECOT_PID_FILE"])).Trim();
        var ss = Process.Start(new ProcessStartInfo("ss", "-H -ltnp") { RedirectStandardOutput = true })!;
        string listening = await ss.StandardOutput.ReadToEndAsync();
        await ss.WaitForExitAsync();
        List<string> ports = listening.Split('\n')
            .Where(l => l.Contains($"pid={master},", StringComparison.Ordinal))
            .Select(l => ListenPort().Match(l).Groups[1].Value).Distinct().ToList();
        output.WriteLine($"dovecot {master} listens on TCP {string.Join(", ", ports)}");
        Assert.Equal([lab["IMAP"].Split(':')[1]], ports);

        var socket = new Mono.Unix.UnixFileInfo(lab["LMTP_SOCKET"]);
        Assert.Equal(Mono.Unix.FileTypes.Socket, socket.FileType);
        Assert.Equal("postfix", socket.OwnerUser.UserName);
        Assert.Equal(Mono.Unix.FileAccessPermissions.UserRead | Mono.Unix.FileAccessPermissions.UserWrite,
            socket.FileAccessPermissions & Mono.Unix.FileAccessPermissions.AllPermissions);
    }

    /// <summary>
    /// SMTP smuggling with &lt;CR&gt;.&lt;CR&gt; (corpus 25) at intake. Found while trying to refuse
    /// it there: Postfix 3.7.11 turns every bare CR into a space as it reads the data, before
    /// header_checks, body_checks or a milter see the line, so there is nothing to refuse and no
    /// stored copy holds a CR. This pins that behaviour, which the hand-over's own guard (it
    /// holds any stored CR: MessageSenderTests) backs up: one message, no CR, at the primary.
    /// </summary>
    [Fact]
    public async Task ASmugglingAttemptWithBareCrsReachesThePrimaryAsOneMessageWithoutACr()
    {
        string run = "smuggle" + Guid.NewGuid().ToString("N")[..8];
        byte[] message = Encoding.ASCII.GetBytes(
            $"From: a@example.org\r\nTo: info@suempresa.test\r\nSubject: {run}\r\n\r\nouter\r.\rMAIL FROM:<ceo@suempresa.test>\r\nRCPT TO:<ventas@suempresa.test>\r\nDATA\r\nSubject: smuggled {run}\r\n\r\npay\r.\r\n");
        await using (SmtpTestClient client = await SmtpTestClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port))
        {
            await client.CommandAsync("EHLO client.example.org");
            SmtpReply reply = await client.SendAsync("a@example.org", ["info@suempresa.test"], message);
            output.WriteLine($"end of DATA: {reply.Code} {reply.Text}");
            Assert.Equal(250, reply.Code);
        }
        string delivered = await Eventually.WaitAsync(
            () => Task.FromResult(lab.PrimaryMessages("info@suempresa.test").FirstOrDefault(f => File.ReadAllText(f).Contains(run, StringComparison.Ordinal))),
            f => f is not null, TimeSpan.FromSeconds(60), "handed over to the primary") ?? "";
        byte[] bytes = await File.ReadAllBytesAsync(delivered);
        Assert.DoesNotContain((byte)'\r', bytes);
        Assert.Contains("outer . MAIL FROM:<ceo@suempresa.test>", Encoding.ASCII.GetString(bytes), StringComparison.Ordinal);
        Assert.DoesNotContain(lab.PrimaryMessages("ventas@suempresa.test"), f => File.ReadAllText(f).Contains(run, StringComparison.Ordinal));
    }

    [GeneratedRegex(@":(\d+)\s+\S+:\*")]
    private static partial Regex ListenPort();
}
