using System.Collections.Concurrent;
using System.Diagnostics;

namespace Respaldo.Bench;

/// <summary>
/// Times deliveries into a tree of maildirs (<c>ROOT/domain/local/{new,cur}</c>): when the first
/// message appeared and when the expected number had. inotify gives the moments (a delivery
/// agent writes to tmp/ and renames into new/); a listing every 200 ms backs it up in case a
/// watch was added too late for a brand-new maildir or the event queue overflowed.
/// </summary>
public sealed class MaildirWatch : IAsyncDisposable
{
    private readonly string _root;
    private readonly int _expected;
    private readonly FileSystemWatcher _watcher;
    private readonly ConcurrentDictionary<string, byte> _seen = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _poller;
    private readonly object _lock = new();
    private long? _first;
    private long? _last;

    private MaildirWatch(string root, int expected)
    {
        _root = root;
        _expected = expected;
        Directory.CreateDirectory(root);
        _watcher = new FileSystemWatcher(root)
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName,
            InternalBufferSize = 64 * 1024,
        };
        _watcher.Created += (_, e) => Saw(e.FullPath);
        _watcher.Renamed += (_, e) => Saw(e.FullPath);
        _watcher.EnableRaisingEvents = true;
        _poller = Task.Run(PollAsync);
    }

    public static MaildirWatch Start(string root, int expected) => new(root, expected);

    /// <summary>Messages in new/ and cur/ of every maildir under <paramref name="root"/> (never tmp/).</summary>
    public static int Count(string root)
    {
        if (!Directory.Exists(root))
        {
            return 0;
        }
        int count = 0;
        foreach (string domain in Directory.EnumerateDirectories(root))
        {
            foreach (string mailbox in Directory.EnumerateDirectories(domain))
            {
                foreach (string sub in new[] { "new", "cur" })
                {
                    string dir = Path.Combine(mailbox, sub);
                    if (Directory.Exists(dir))
                    {
                        count += Directory.EnumerateFiles(dir).Count();
                    }
                }
            }
        }
        return count;
    }

    /// <summary>Removes every message under <paramref name="root"/>, leaving the maildirs in place.</summary>
    public static void Empty(string root)
    {
        if (!Directory.Exists(root))
        {
            return;
        }
        foreach (string file in Directory.EnumerateDirectories(root).SelectMany(Directory.EnumerateDirectories)
            .SelectMany(m => new[] { "new", "cur" }.Select(s => Path.Combine(m, s))).Where(Directory.Exists)
            .SelectMany(Directory.EnumerateFiles).ToList())
        {
            File.Delete(file);
        }
    }

    private void Saw(string path)
    {
        string? parent = Path.GetFileName(Path.GetDirectoryName(path));
        if (parent is not ("new" or "cur"))
        {
            return;
        }
        long now = Stopwatch.GetTimestamp();
        // Note: the base name, before ":2,", identifies a message even if it moves to cur/.
        string name = Path.GetFileName(path);
        int colon = name.IndexOf(':', StringComparison.Ordinal);
        if (_seen.TryAdd(colon < 0 ? name : name[..colon], 0))
        {
            Reached(_seen.Count, now);
        }
    }

    private void Reached(int count, long now)
    {
        lock (_lock)
        {
            if (count > 0)
            {
                _first ??= now;
            }
            if (count >= _expected)
            {
                _last ??= now;
            }
        }
    }

    private async Task PollAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(200, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            Reached(Count(_root), Stopwatch.GetTimestamp());
        }
    }

    /// <summary>Waits for the first message; returns when it appeared (Stopwatch ticks).</summary>
    public Task<long> WaitFirstAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        WaitForAsync(() => _first, timeout, cancellationToken);

    /// <summary>Waits for the expected messages; returns when the first and the last appeared (Stopwatch ticks).</summary>
    public Task<(long First, long Last)> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        WaitForAsync(() => _first is { } first && _last is { } last ? (first, last) : ((long, long)?)null, timeout, cancellationToken);

    /// <summary>Polls <paramref name="reached"/> under the lock every 20 ms until it has a value.</summary>
    private async Task<T> WaitForAsync<T>(Func<T?> reached, TimeSpan timeout, CancellationToken cancellationToken)
        where T : struct
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            lock (_lock)
            {
                if (reached() is { } value)
                {
                    return value;
                }
            }
            await Task.Delay(20, cancellationToken);
        }
        throw new TimeoutException($"{Count(_root)} of {_expected} messages under {_root} after {timeout.TotalSeconds:0} s");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _watcher.Dispose();
        await _poller;
        _stop.Dispose();
    }
}
