using System.Text;
using Respaldo.Storage;

namespace Respaldo.Policy;

/// <summary>
/// Dovecot's second userdb (a passwd-file, STATE/dynamic-users): every address the front door
/// accepted beyond the listed mailboxes, learned from the primary or from the admin's list. The
/// address is written here before Postfix is told "go on", so that Dovecot's LMTP knows the user
/// when the message arrives and creates its maildir on first delivery. Dovecot re-reads a
/// passwd-file when it changes: no reload per new address. Entries are never removed here: a
/// message for the address may still wait in Postfix's queue, and a user Dovecot no longer knows
/// would turn it into a bounce.
/// </summary>
public sealed class DynamicMailboxes : IDisposable
{
    private const string Header = "# Written by respaldod: addresses accepted beyond the listed mailboxes. Do not edit.\n";
    private const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private readonly SemaphoreSlim _lock = new(1, 1);
    private SortedSet<string>? _known;
    private string? _path;

    /// <summary>Creates the file (empty) if it is missing, so that Dovecot finds its userdb from the start.</summary>
    public async Task PrepareAsync(string path, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            Load(path);
            if (!File.Exists(path))
            {
                Write(path);
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Makes sure Dovecot knows <paramref name="address"/>; returns true when it was added now.</summary>
    public async Task<bool> EnsureAsync(string path, string address, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            Load(path);
            if (_known!.Contains(address))
            {
                return false;
            }
            _known.Add(address);
            try
            {
                Write(path);
            }
            catch
            {
                _known.Remove(address);
                throw;
            }
            return true;
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Dispose() => _lock.Dispose();

    private void Load(string path)
    {
        if (_path == path && _known is not null)
        {
            return;
        }
        var known = new SortedSet<string>(StringComparer.Ordinal);
        if (File.Exists(path))
        {
            foreach (string line in File.ReadLines(path))
            {
                int colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && !line.StartsWith('#'))
                {
                    known.Add(line[..colon]);
                }
            }
        }
        _known = known;
        _path = path;
    }

    private void Write(string path)
    {
        var text = new StringBuilder(Header);
        foreach (string address in _known!)
        {
            // user:password:uid:gid:gecos:home:shell:extra, as the rendered users file; uid/gid from mail_uid.
            text.Append(address).Append(":::::::\n");
        }
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        AtomicFile.Write(path, Encoding.UTF8.GetBytes(text.ToString()), Mode);
    }
}
