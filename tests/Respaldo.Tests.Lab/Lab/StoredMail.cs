using System.Text;
using System.Text.RegularExpressions;

namespace Respaldo.Tests.Lab;

/// <summary>Reading what a maildir holds, for comparisons across paths.</summary>
public static partial class StoredMail
{
    /// <summary>Every message file under a maildir root (new/ and cur/ of every mailbox).</summary>
    public static List<string> AllFiles(string root) =>
        !Directory.Exists(root) ? [] :
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(Path.GetDirectoryName(f)) is "new" or "cur")
            .ToList();

    /// <summary>The Message-IDs containing <paramref name="run"/> of the copies under a maildir root, one entry per copy (a copy deleted while read is skipped).</summary>
    public static List<string> MessageIds(string root, string run)
    {
        var ids = new List<string>();
        foreach (string file in AllFiles(root))
        {
            try
            {
                string? id = Header(File.ReadAllBytes(file), "Message-ID");
                if (id?.Contains(run, StringComparison.Ordinal) == true)
                {
                    ids.Add(id);
                }
            }
            catch (FileNotFoundException)
            {
                // Deleted while we looked: handed over.
            }
        }
        return ids;
    }

    public static string? Header(byte[] message, string name)
    {
        string head = HeaderBlock(message);
        Match m = Regex.Match(head, $"^{Regex.Escape(name)}:[ \\t]*(.*(?:\\n[ \\t].*)*)", RegexOptions.Multiline | RegexOptions.IgnoreCase);
        return m.Success ? m.Groups[1].Value.Trim() : null;
    }

    private static string HeaderBlock(byte[] message)
    {
        string text = Encoding.Latin1.GetString(message, 0, Math.Min(message.Length, 256 * 1024));
        int end = text.IndexOf("\n\n", StringComparison.Ordinal);
        return end < 0 ? text : text[..(end + 1)];
    }

    /// <summary>
    /// What a message looks like apart from the primary's own delivery: the headers the
    /// primary's local delivery prepends (Return-Path, X-Original-To, Delivered-To and its
    /// Received line) are dropped, and in the backup's own smtpd Received line (the next one)
    /// the host, queue id and time are masked, since two backups cannot share them. Every
    /// other byte is kept as stored.
    /// </summary>
    public static byte[] WithoutPrimaryTrace(byte[] message)
    {
        int offset = 0;
        foreach (string name in new[] { "Return-Path:", "X-Original-To:", "Delivered-To:", "Received:" })
        {
            if (StartsWithAt(message, offset, name))
            {
                offset = EndOfHeader(message, offset);
            }
        }
        if (!StartsWithAt(message, offset, "Received:"))
        {
            return message[offset..];
        }
        int end = EndOfHeader(message, offset);
        string backupReceived = Encoding.Latin1.GetString(message, offset, end - offset);
        string masked = BackupReceived().Replace(backupReceived, "by BACKUP (Postfix) with ESMTP id ID;DATE");
        byte[] maskedBytes = Encoding.Latin1.GetBytes(masked);
        return [.. maskedBytes, .. message[end..]];
    }

    [GeneratedRegex(@"by \S+ \(Postfix\) with E?SMTPS?A? id \w+[\s\S]*$")]
    private static partial Regex BackupReceived();

    private static bool StartsWithAt(byte[] message, int offset, string name) =>
        message.Length >= offset + name.Length && Encoding.ASCII.GetString(message, offset, name.Length) == name;

    /// <summary>Where the header field starting at <paramref name="offset"/> ends, folded lines included.</summary>
    public static int EndOfHeader(byte[] message, int offset)
    {
        int i = offset;
        while (true)
        {
            int lf = Array.IndexOf(message, (byte)'\n', i);
            if (lf < 0)
            {
                return message.Length;
            }
            i = lf + 1;
            if (i >= message.Length || (message[i] != (byte)' ' && message[i] != (byte)'\t'))
            {
                return i;
            }
        }
    }
}
