using System.Diagnostics;
using System.Globalization;
using System.Text;
using Mono.Unix.Native;

namespace Respaldo.Bench.Scale;

/// <summary>
/// Writes waiting messages straight into the backup's maildirs the way Dovecot's LMTP delivery
/// leaves them, copied from one message that Dovecot really delivered (the sample): the same
/// trace headers on top (<c>Return-Path:</c>, <c>Delivered-To:</c>, <c>Received: ... with LMTP
/// ...</c>) with the recipient replaced, LF line endings, the name
/// <c>&lt;secs&gt;.M&lt;usec&gt;P&lt;pid&gt;.&lt;host&gt;,S=&lt;size&gt;,W=&lt;CRLF size&gt;</c>,
/// the sample's owner and modes (the mail user; files 0660, directories 2770), written in
/// <c>tmp/</c> and renamed into <c>new/</c>. Note: Dovecot also keeps its index, uidlist and
/// Maildir++ <c>maildirsize</c> beside the mail; the controller reads neither, Dovecot rebuilds
/// them, and writing them too would turn minutes of filling into hours.
/// </summary>
public sealed class MaildirFiller
{
    private readonly string _root;
    private readonly string _template;
    private readonly string _sampleRecipient;
    private readonly string _host;
    private readonly uint _uid;
    private readonly uint _gid;
    private readonly FilePermissions _fileMode;
    private readonly FilePermissions _dirMode;

    private MaildirFiller(string root, string template, string sampleRecipient, string host, Stat file, Stat dir)
    {
        _root = root;
        _template = template;
        _sampleRecipient = sampleRecipient;
        _host = host;
        _uid = file.st_uid;
        _gid = file.st_gid;
        _fileMode = file.st_mode & (FilePermissions)0xFFF;
        _dirMode = dir.st_mode & (FilePermissions)0xFFF;
    }

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"as uid {_uid} gid {_gid}, files {Convert.ToString((int)_fileMode, 8)}, directories {Convert.ToString((int)_dirMode, 8)}, host '{_host}', {Encoding.ASCII.GetByteCount(_template)} bytes each");

    /// <summary>Reads the one message Dovecot delivered to <paramref name="recipient"/> (in its new/), and its maildir's modes.</summary>
    public static MaildirFiller FromSample(string root, string recipient, out string samplePath)
    {
        string newDir = MaildirOf(root, recipient, "new");
        string[] files = Directory.GetFiles(newDir);
        if (files.Length != 1)
        {
            throw new InvalidOperationException($"expected the one sample message in {newDir}, found {files.Length}");
        }
        samplePath = files[0];
        return FromFile(root, recipient, samplePath);
    }

    /// <summary>Copies the message Dovecot delivered to <paramref name="recipient"/> at <paramref name="samplePath"/> (read now; the file may go later).</summary>
    public static MaildirFiller FromFile(string root, string recipient, string samplePath)
    {
        string newDir = Path.GetDirectoryName(samplePath)!;
        string name = Path.GetFileName(samplePath);
        // <secs>.M<usec>P<pid>.<host>,S=<size>,W=<vsize>: the host is what lies between the second dot and the first comma.
        string unique = name.Split(',')[0];
        int first = unique.IndexOf('.', StringComparison.Ordinal);
        int second = unique.IndexOf('.', first + 1);
        if (first < 0 || second < 0 || !name.Contains(",S=", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"the sample's name {name} is not Dovecot's <secs>.M<usec>P<pid>.<host>,S=,W=");
        }
        string template = File.ReadAllText(samplePath, Encoding.Latin1);
        if (template.Contains('\r', StringComparison.Ordinal) || !template.StartsWith("Return-Path:", StringComparison.Ordinal) ||
            !template.Contains("\nDelivered-To: " + recipient, StringComparison.Ordinal) || !template.Contains("with LMTP", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"the sample {samplePath} does not look like Dovecot's LMTP delivery (LF, Return-Path, Delivered-To, Received with LMTP)");
        }
        Check(Syscall.stat(samplePath, out Stat file), samplePath);
        Check(Syscall.stat(newDir, out Stat dir), newDir);
        return new MaildirFiller(root, template, recipient, unique[(second + 1)..], file, dir);
    }

    /// <summary>Makes DOMAIN/ and DOMAIN/LOCAL/{new,cur,tmp} for each mailbox as Dovecot would at a first delivery.</summary>
    public void MakeMaildirs(IReadOnlyList<string> mailboxes)
    {
        foreach (string address in mailboxes)
        {
            string home = MaildirOf(_root, address, "");
            MakeDirectory(Path.GetDirectoryName(home.TrimEnd('/'))!);
            MakeDirectory(home);
            foreach (string sub in new[] { "new", "cur", "tmp" })
            {
                MakeDirectory(Path.Combine(home, sub));
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="count"/> messages, round robin over <paramref name="mailboxes"/>,
    /// on as many threads as cores. Returns the bytes written.
    /// </summary>
    public long Fill(IReadOnlyList<string> mailboxes, int count, Action<string> progress)
    {
        long secs = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        long bytes = 0;
        int done = 0;
        var clock = Stopwatch.StartNew();
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            string recipient = mailboxes[i % mailboxes.Count];
            byte[] content = Encoding.Latin1.GetBytes(_template.Replace(_sampleRecipient, recipient, StringComparison.Ordinal));
            int lines = content.Count(b => b == (byte)'\n');
            // Note: the usec and pid fields make each base name unique (the controller's identity of a message).
            string name = string.Create(CultureInfo.InvariantCulture,
                $"{secs}.M{i % 1_000_000}P{100_000 + (i / 1_000_000)}.{_host},S={content.Length},W={content.Length + lines}");
            string tmp = MaildirOf(_root, recipient, "tmp") + name;
            Write(tmp, content);
            Check(Syscall.rename(tmp, MaildirOf(_root, recipient, "new") + name), tmp);
            Interlocked.Add(ref bytes, content.Length);
            int n = Interlocked.Increment(ref done);
            if (n % 100_000 == 0)
            {
                progress(string.Create(CultureInfo.InvariantCulture, $"  {n:N0} of {count:N0} written ({clock.Elapsed.TotalSeconds:0} s)"));
            }
        });
        return bytes;
    }

    private void Write(string path, byte[] content)
    {
        int fd = Syscall.open(path, OpenFlags.O_CREAT | OpenFlags.O_EXCL | OpenFlags.O_WRONLY | OpenFlags.O_NOFOLLOW, _fileMode);
        Check(fd, path);
        using var handle = new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true);
        RandomAccess.Write(handle, content, 0);
        Check(Syscall.fchown(fd, _uid, _gid), path);
        Check(Syscall.fchmod(fd, _fileMode), path);
    }

    private void MakeDirectory(string path)
    {
        if (Syscall.mkdir(path, _dirMode) != 0)
        {
            if (Stdlib.GetLastError() == Errno.EEXIST)
            {
                return;
            }
            Check(-1, path);
        }
        // Note: mkdir's mode passes through the umask and drops the setgid bit; set both again.
        Check(Syscall.chown(path, _uid, _gid), path);
        Check(Syscall.chmod(path, _dirMode), path);
    }

    /// <summary>ROOT/domain/local/SUB/ (with a trailing slash), the layout of mail_home in dovecot.conf.</summary>
    public static string MaildirOf(string root, string address, string sub)
    {
        int at = address.IndexOf('@', StringComparison.Ordinal);
        string home = Path.Combine(root, address[(at + 1)..], address[..at]);
        return (sub.Length == 0 ? home : Path.Combine(home, sub)) + "/";
    }

    private static void Check(long result, string path)
    {
        if (result < 0)
        {
            throw new IOException($"{path}: {Stdlib.GetLastError()}");
        }
    }
}
