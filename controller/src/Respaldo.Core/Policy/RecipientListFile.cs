using Respaldo.Configuration;

namespace Respaldo.Policy;

/// <summary>
/// A list of valid addresses the admin syncs from the primary (one address per line; blank
/// lines and lines starting with '#' are ignored). It is looked at again at most once a second
/// and re-read when its size or modification time changed; a file that is missing or
/// unreadable counts as empty (and the recipients in it get 4xx/5xx, never a silent accept).
/// </summary>
public sealed class RecipientListFile(string path)
{
    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(1);

    private readonly object _lock = new();
    private HashSet<string> _addresses = new(StringComparer.Ordinal);
    private (DateTime Modified, long Length)? _stamp;
    private DateTimeOffset _checkedAt = DateTimeOffset.MinValue;

    public string Path { get; } = path;

    /// <summary>Lines that were not addresses of the tenant at the last read (for the log).</summary>
    public int Skipped { get; private set; }

    /// <summary>True when the file (as it is now, give or take a second) lists <paramref name="address"/>.</summary>
    public bool Contains(Tenant tenant, string address, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (now - _checkedAt >= CheckEvery)
            {
                _checkedAt = now;
                Refresh(tenant);
            }
            return _addresses.Contains(address);
        }
    }

    private void Refresh(Tenant tenant)
    {
        var info = new FileInfo(Path);
        if (!info.Exists)
        {
            _addresses = new HashSet<string>(StringComparer.Ordinal);
            _stamp = null;
            return;
        }
        (DateTime, long) stamp = (info.LastWriteTimeUtc, info.Length);
        if (_stamp == stamp)
        {
            return;
        }
        string[] lines;
        try
        {
            lines = File.ReadAllLines(Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _addresses = new HashSet<string>(StringComparer.Ordinal);
            _stamp = null;
            return;
        }
        var addresses = new HashSet<string>(StringComparer.Ordinal);
        int skipped = 0;
        foreach (string raw in lines)
        {
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            if (MailAddress.TryNormalize(line, out string address, out _) && tenant.ServesDomain(MailAddress.DomainOf(address)))
            {
                addresses.Add(address);
            }
            else
            {
                skipped++;
            }
        }
        _addresses = addresses;
        _stamp = stamp;
        Skipped = skipped;
    }
}
