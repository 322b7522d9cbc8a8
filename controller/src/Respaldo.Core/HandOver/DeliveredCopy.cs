using System.Globalization;
using System.Text;
using Respaldo.Mailboxes;

namespace Respaldo.HandOver;

/// <summary>
/// Deletes the backup's copy of a message the primary has taken (its 250 already durable in
/// the journal). Follows the file if Dovecot renamed it, and keeps Dovecot's Maildir++ quota
/// file honest by appending the removal, as the Maildir++ convention asks of any process that
/// deletes messages.
/// </summary>
public static class DeliveredCopy
{
    /// <summary>Deletes the copy; returns false when it was already gone.</summary>
    public static bool Delete(WaitingMessage message)
    {
        string? path = message.Path;
        for (int attempt = 0; attempt < 3 && path is not null; attempt++)
        {
            long size;
            try
            {
                size = new FileInfo(path).Length;
                File.Delete(path);
                if (!File.Exists(path))
                {
                    NoteQuota(message.MaildirPath, size);
                    return true;
                }
            }
            catch (FileNotFoundException)
            {
            }
            path = MaildirLayout.Relocate(message.MaildirPath, message.BaseName);
        }
        return false;
    }

    private static void NoteQuota(string maildir, long size)
    {
        string quota = Path.Combine(maildir, "maildirsize");
        if (!File.Exists(quota))
        {
            return;
        }
        try
        {
            // Note: O_APPEND writes of one short line are atomic with Dovecot's own appends.
            using var stream = new FileStream(quota, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            stream.Write(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"-{size} -1\n")));
        }
        catch (IOException)
        {
            // Note: Dovecot recalculates a stale maildirsize by itself; the quota is advisory here.
        }
    }
}
