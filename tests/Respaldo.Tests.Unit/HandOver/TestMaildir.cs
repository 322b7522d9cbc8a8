using Respaldo.Configuration;
using Respaldo.Mailboxes;

namespace Respaldo.Tests.HandOver;

/// <summary>Waiting messages for the hand-over's scripted-primary tests: files in info@suempresa.test's maildir as Dovecot's LMTP delivery leaves them, its trace on top.</summary>
internal static class TestMaildir
{
    /// <summary>
    /// Writes the messages numbered <paramref name="first"/> on (each "Subject: N", then the body
    /// line <paramref name="body"/> makes of N), oldest first; each is put in <paramref name="index"/> when one is given.
    /// </summary>
    public static List<WaitingMessage> Store(RespaldoSettings settings, int first, int count, Func<int, string> body, MailboxIndex? index = null)
    {
        string maildir = Path.Combine(settings.MaildirRoot, "suempresa.test", "info");
        string dir = Path.Combine(maildir, "new");
        Directory.CreateDirectory(dir);
        var list = new List<WaitingMessage>();
        for (int n = first; n < first + count; n++)
        {
            string name = $"1795805{n:D3}.M930396P6829.vm,S=300,W=310";
            string content = "Return-Path: <sender@example.org>\nDelivered-To: info@suempresa.test\n" +
                $"Received: from x\n\tby mail-backup.suempresa.test with LMTP\n\tid {n}\n\nSubject: {n}\n\n{body(n)}\n";
            string path = Path.Combine(dir, name);
            File.WriteAllText(path, content);
            var message = new WaitingMessage("suempresa", "info@suempresa.test", maildir, name, path, content.Length, DateTimeOffset.UnixEpoch);
            index?.Upsert(message);
            list.Add(message);
        }
        return list;
    }
}
