using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Respaldo.Tests.ChaosLab;

/// <summary>A copy's identity: its envelope (every message of a run has its own sender) and its recipient.</summary>
public sealed record CopyKey(string Sender, string Recipient)
{
    public override string ToString() => $"<{Sender}> → {Recipient}";
}

/// <summary>Which backup a copy at the primary came through: Respaldo, or the plain Postfix relay used as the reference.</summary>
public enum CopyPath
{
    Respaldo,
    PlainRelay,
}

/// <summary>One stored message file (a maildir copy or a held one) and what its trace says.</summary>
public sealed record StoredCopy(string File, CopyKey Key, CopyPath Via);

/// <summary>
/// Reading stored copies the same way at both ends, the documented trace-header handling of
/// issue 4's content hash: a copy's <b>content</b> is what follows its delivery trace
/// (Return-Path, X-Original-To, Delivered-To at the top) and the Received lines down to and
/// including the backup's own smtpd line ("by mail-backup.suempresa.test (Postfix)", or the
/// plain relay's). At the backup that skips Dovecot's LMTP line; at the primary, the primary's
/// own line. What is left is the message as the backup's Postfix received it; for a well-formed
/// message (CRLF lines under 998 octets) that is exactly what the sender sent, with LF line ends.
/// </summary>
public static partial class StoredCopies
{
    private const int HeadBytes = 64 * 1024;

    /// <summary>The copy's identity from the first 64 KiB of the file; null when it is not a delivered message.</summary>
    public static StoredCopy? Read(string file)
    {
        byte[] head;
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            head = new byte[Math.Min(HeadBytes, stream.Length)];
            stream.ReadExactly(head);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        string? sender = null;
        string? recipient = null;
        CopyPath via = CopyPath.Respaldo;
        foreach ((string name, string value, _) in Trace(head))
        {
            switch (name)
            {
                case "return-path" when sender is null:
                    int open = value.IndexOf('<', StringComparison.Ordinal);
                    int close = value.LastIndexOf('>');
                    sender = open >= 0 && close > open ? value[(open + 1)..close] : value.Trim();
                    break;
                case "delivered-to" when recipient is null:
                    recipient = value.Trim();
                    break;
                case "received" when BackupSmtpd().Match(value) is { Success: true } m:
                    via = m.Groups[1].Value == "plain-relay" ? CopyPath.PlainRelay : CopyPath.Respaldo;
                    break;
            }
        }
        return sender is null || recipient is null ? null : new StoredCopy(file, new CopyKey(sender, recipient), via);
    }

    /// <summary>The content after the trace (see the class summary).</summary>
    public static ReadOnlySpan<byte> Content(byte[] message)
    {
        int end = 0;
        foreach ((_, _, int after) in Trace(message))
        {
            end = after;
        }
        return message.AsSpan(end);
    }

    public static string ContentHash(byte[] message) => Convert.ToHexStringLower(SHA256.HashData(Content(message)));

    /// <summary>The hash a well-formed sent message must have once stored: its bytes with CRLF as LF.</summary>
    public static string HashOfSent(ReadOnlySpan<byte> sent)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        int start = 0;
        while (true)
        {
            int crlf = sent[start..].IndexOf("\r\n"u8);
            if (crlf < 0)
            {
                sha.AppendData(sent[start..]);
                break;
            }
            sha.AppendData(sent.Slice(start, crlf));
            sha.AppendData("\n"u8);
            start += crlf + 2;
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>
    /// The trace fields at the top: (lower-case name, unfolded value, offset after the field),
    /// ending with the backup's own smtpd Received line.
    /// </summary>
    private static IEnumerable<(string Name, string Value, int After)> Trace(byte[] message)
    {
        int offset = 0;
        var fields = new List<(string, string, int)>();
        while (offset < message.Length)
        {
            int colon = Array.IndexOf(message, (byte)':', offset, Math.Min(32, message.Length - offset));
            if (colon < 0)
            {
                break;
            }
            string name = Encoding.ASCII.GetString(message, offset, colon - offset).ToLowerInvariant();
            if (name is not ("return-path" or "x-original-to" or "delivered-to" or "received"))
            {
                break;
            }
            int end = EndOfField(message, offset);
            string value = Encoding.UTF8.GetString(message, colon + 1, end - colon - 1);
            fields.Add((name, value, end));
            offset = end;
            if (name == "received" && BackupSmtpd().IsMatch(value))
            {
                break;
            }
        }
        return fields;
    }

    private static int EndOfField(byte[] message, int offset)
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

    [GeneratedRegex(@"by (mail-backup|plain-relay)\.suempresa\.test \(Postfix\)")]
    private static partial Regex BackupSmtpd();
}

/// <summary>
/// What a maildir root (or the hold area) holds, read incrementally: each file's head is read
/// once, files that were there before the run are ignored, renames (new/ to cur/) follow the
/// base name. Primary maildirs only grow, so a census of 10,000 files costs a directory walk.
/// </summary>
public sealed class MaildirCensus(string root, bool maildirsOnly = true)
{
    private readonly Dictionary<string, StoredCopy?> _known = new(StringComparer.Ordinal);
    private readonly HashSet<string> _ignored = new(StringComparer.Ordinal);

    public string Root => root;

    /// <summary>Whatever is there now belongs to earlier tests.</summary>
    public void IgnoreExisting()
    {
        foreach (string f in Files())
        {
            _ignored.Add(Id(f));
        }
    }

    /// <summary>The copies present now (not ignored), for which <paramref name="ours"/> holds.</summary>
    public List<StoredCopy> Scan(Func<CopyKey, bool>? ours = null)
    {
        var present = new List<StoredCopy>();
        foreach (string f in Files())
        {
            string id = Id(f);
            if (_ignored.Contains(id))
            {
                continue;
            }
            if (!_known.TryGetValue(id, out StoredCopy? copy) || (copy is not null && copy.File != f))
            {
                copy = copy is not null && File.Exists(f) ? copy with { File = f } : StoredCopies.Read(f);
                if (copy is null && !File.Exists(f))
                {
                    continue;
                }
                _known[id] = copy;
            }
            if (copy is not null && (ours is null || ours(copy.Key)))
            {
                present.Add(copy);
            }
        }
        return present;
    }

    private IEnumerable<string> Files()
    {
        if (!Directory.Exists(root))
        {
            return [];
        }
        IEnumerable<string> all = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories);
        return maildirsOnly ? all.Where(f => Path.GetFileName(Path.GetDirectoryName(f)) is "new" or "cur") : all;
    }

    /// <summary>The maildir and the base name (before ":2,"): stable across Dovecot's rename from new/ to cur/.</summary>
    private string Id(string file)
    {
        if (!maildirsOnly)
        {
            return file;
        }
        string maildir = Path.GetDirectoryName(Path.GetDirectoryName(file))!;
        return maildir + "/" + Path.GetFileName(file).Split(':')[0];
    }
}
