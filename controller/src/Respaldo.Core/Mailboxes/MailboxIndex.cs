using System.Text;

namespace Respaldo.Mailboxes;

/// <summary>
/// Step 1, "watch the mailboxes": what waits in every backup mailbox, kept current by the
/// watcher (inotify plus periodic rescans) so that nobody lists directories to ask. All
/// members are thread-safe. <see cref="Arrived"/> fires once per message first seen.
/// Note: counts and bytes per tenant and per mailbox are kept as messages come and go, so
/// the front door's questions at every RCPT and end of data (<see cref="Totals"/>,
/// <see cref="MailboxTotal"/>, <see cref="AllBytes"/>) cost the same with ten or a million
/// waiting messages; each tenant keeps its messages oldest first as they come, so nobody sorts
/// a backlog to find the next one; each tenant has its own lock, so one tenant's rescan or
/// hand-over never waits for another's.
/// Note: an entry is compact (docs/ARCHITECTURE.md, "The index"): the tenant, address and maildir
/// are one object per mailbox, the path is kept as "new/ or cur/ plus the flags" (the flags
/// shared), a base name packed (<see cref="PackedName"/>), and a <see cref="WaitingMessage"/> is made only
/// when someone reads one.
/// </summary>
public sealed class MailboxIndex
{
    private readonly Lock _gate = new();

    // Note: replaced whole by UseTenants, never changed in place: readers take it without a lock.
    private volatile Dictionary<string, TenantMail> _tenants;

    private long _allBytes;
    private long _visited;

    public MailboxIndex(IEnumerable<string> tenantIds)
    {
        _tenants = new Dictionary<string, TenantMail>(StringComparer.Ordinal);
        foreach (string id in tenantIds)
        {
            _tenants[id] = new TenantMail(id);
        }
    }

    /// <summary>
    /// After a reload: tenants new to the configuration start empty (the rescan that follows a
    /// changed tenant map fills them), removed ones are forgotten (their mail stays on disk,
    /// owned by nobody); everything else is kept as it is, without a rescan.
    /// </summary>
    public void UseTenants(IEnumerable<string> tenantIds)
    {
        var wanted = tenantIds.ToHashSet(StringComparer.Ordinal);
        lock (_gate)
        {
            var next = new Dictionary<string, TenantMail>(StringComparer.Ordinal);
            foreach (string id in wanted)
            {
                next[id] = _tenants.TryGetValue(id, out TenantMail? kept) ? kept : new TenantMail(id);
            }
            List<TenantMail> gone = _tenants.Values.Where(t => !wanted.Contains(t.Id)).ToList();
            _tenants = next;
            foreach (TenantMail tenant in gone)
            {
                lock (tenant.Gate)
                {
                    tenant.Forgotten = true;
                    Interlocked.Add(ref _allBytes, -tenant.Bytes);
                    tenant.Signal();
                }
            }
        }
    }

    /// <summary>Raised (outside the lock) for each message seen for the first time.</summary>
    public event Action<WaitingMessage>? Arrived;

    /// <summary>Messages visited by walks over the index (snapshots, rescans): what the front door's lookups and a tenant loop's turn must never add to.</summary>
    internal long MessagesVisited => Interlocked.Read(ref _visited);

    private void Visited(int count) => Interlocked.Add(ref _visited, count);

    /// <summary>Bytes waiting in every tenant's mailboxes together: one read, whatever the number of tenants.</summary>
    public long AllBytes => Interlocked.Read(ref _allBytes);

    private TenantMail? TenantOf(string tenantId) => _tenants.GetValueOrDefault(tenantId);

    /// <summary>Adds a message, or records its new path (Dovecot renamed new/ to cur/).</summary>
    public void Upsert(WaitingMessage message) => Put(message, overwrite: true, announce: true);

    private void Put(WaitingMessage message, bool overwrite, bool announce)
    {
        WaitingMessage? added = null;
        if (TenantOf(message.TenantId) is not { } tenant)
        {
            return;
        }
        lock (tenant.Gate)
        {
            if (tenant.Forgotten || (!overwrite && tenant.Lookup(message.Key) is not null))
            {
                return;
            }
            if (tenant.Put(message, this) is null)
            {
                added = message;
                tenant.Signal();
            }
        }
        if (added is not null && announce)
        {
            Arrived?.Invoke(added);
        }
    }

    /// <summary>
    /// Adds a message only if the index does not know it yet. Note: what a scan found may be
    /// older than what the watcher has seen since (reconciliation batches files, and Dovecot may
    /// have renamed one to cur/ meanwhile): a known entry keeps its newer path. Without
    /// <paramref name="announce"/>, an added message wakes its tenant's loop but raises no
    /// <see cref="Arrived"/> (the journal already recorded its arrival before a restart).
    /// </summary>
    public void AddIfAbsent(WaitingMessage message, bool announce = true) => Put(message, overwrite: false, announce);

    /// <summary>Forgets a message (handed over, held, or gone). With <paramref name="onlyAtPath"/>, only if it was last seen there.</summary>
    public bool Remove(string tenantId, string key, string? onlyAtPath = null)
    {
        if (TenantOf(tenantId) is not { } tenant)
        {
            return false;
        }
        lock (tenant.Gate)
        {
            if (tenant.Forgotten || tenant.Lookup(key) is not { } entry || (onlyAtPath is not null && !entry.PathIs(onlyAtPath)))
            {
                return false;
            }
            tenant.Drop(entry, this);
            return true;
        }
    }

    /// <summary>
    /// Makes one mailbox's entries match <paramref name="found"/> (a full scan's view):
    /// new ones are added (and announced), vanished ones (no longer on disk) dropped. Visits the
    /// messages found and the mailbox's own entries, nothing else of the tenant.
    /// </summary>
    public void ReplaceMailbox(string tenantId, string mailbox, IReadOnlyCollection<WaitingMessage> found)
    {
        if (TenantOf(tenantId) is not { } tenant)
        {
            return;
        }
        var arrived = new List<WaitingMessage>();
        List<(Entry Entry, string Path)> vanished = [];
        lock (tenant.Gate)
        {
            if (tenant.Forgotten)
            {
                return;
            }
            foreach (WaitingMessage m in found)
            {
                if (tenant.Put(m, this) is null)
                {
                    arrived.Add(m);
                }
            }
            Visited(found.Count);
            if (tenant.Mailboxes.TryGetValue(mailbox, out MailboxMail? current))
            {
                Visited(current.Messages.Count);
                var keep = new HashSet<string>(found.Count, StringComparer.Ordinal);
                foreach (WaitingMessage m in found)
                {
                    keep.Add(m.BaseName);
                }
                HashSet<string>.AlternateLookup<ReadOnlySpan<char>> kept = keep.GetAlternateLookup<ReadOnlySpan<char>>();
                foreach (Entry e in current.Messages)
                {
                    if (!e.NameIn(kept))
                    {
                        vanished.Add((e, e.Path()));
                    }
                }
            }
            if (arrived.Count > 0)
            {
                tenant.Signal();
            }
        }
        // Note: the scan listed this mailbox a moment ago; a message that arrived since was
        // added by inotify and is missing from the listing. Drop only what is gone, and look
        // at the disk outside the tenant's lock: the front door and the hand-over need it meanwhile.
        foreach ((Entry entry, string path) in vanished)
        {
            if (File.Exists(path))
            {
                continue;
            }
            lock (tenant.Gate)
            {
                if (!tenant.Forgotten && entry.Mailbox.Holds(entry) && entry.PathIs(path))
                {
                    tenant.Drop(entry, this);
                }
            }
        }
        foreach (WaitingMessage m in arrived)
        {
            Arrived?.Invoke(m);
        }
    }

    /// <summary>
    /// Forgets every message of one of the tenant's mailboxes, whether or not its files are
    /// still there: a reload gave the mailbox's domain to another tenant (or to nobody).
    /// </summary>
    public void ForgetMailbox(string tenantId, string mailbox)
    {
        if (TenantOf(tenantId) is not { } tenant)
        {
            return;
        }
        lock (tenant.Gate)
        {
            if (tenant.Forgotten || !tenant.Mailboxes.TryGetValue(mailbox, out MailboxMail? current))
            {
                return;
            }
            Visited(current.Messages.Count);
            foreach (Entry e in current.Messages.ToList())
            {
                tenant.Drop(e, this);
            }
        }
    }

    /// <summary>Mailboxes the index holds messages for (a scan must also visit these, even if their directory is gone).</summary>
    public IReadOnlyList<(string TenantId, string Mailbox)> KnownMailboxes()
    {
        var known = new List<(string, string)>();
        foreach (TenantMail tenant in _tenants.Values)
        {
            lock (tenant.Gate)
            {
                known.AddRange(tenant.Mailboxes.Keys.Select(m => (tenant.Id, m)));
            }
        }
        return known;
    }

    /// <summary>The tenant's waiting messages, oldest first (docs/ARCHITECTURE.md, "Order and pace"): a walk over all of them, kept in order as they came.</summary>
    public IReadOnlyList<WaitingMessage> Snapshot(string tenantId)
    {
        if (TenantOf(tenantId) is not { } tenant)
        {
            return [];
        }
        lock (tenant.Gate)
        {
            Visited(tenant.Queue.Count);
            return tenant.Queue.Select(e => e.ToMessage()).ToList();
        }
    }

    /// <summary>
    /// The tenant's waiting messages oldest first for a hand-over: a list of references taken in
    /// one ordered pass (no sort), each <see cref="WaitingMessage"/> made only when the run reads
    /// it, with the path it has then. <paramref name="include"/> (by key) leaves out what is not due.
    /// </summary>
    public IReadOnlyList<WaitingMessage> OldestFirst(string tenantId, Func<string, bool>? include = null)
    {
        if (TenantOf(tenantId) is not { } tenant)
        {
            return [];
        }
        List<Entry> entries;
        lock (tenant.Gate)
        {
            Visited(tenant.Queue.Count);
            entries = new List<Entry>(tenant.Queue);
        }
        // Note: asked outside the tenant's lock (the key is fixed): include may take other locks.
        if (include is not null)
        {
            entries.RemoveAll(e => !include(e.Key()));
        }
        return new EntryList(tenant, entries);
    }

    /// <summary>When the tenant's oldest waiting message arrived (null: nothing waits): the head of its queue, no walk.</summary>
    public DateTimeOffset? OldestArrival(string tenantId)
    {
        if (TenantOf(tenantId) is not { } tenant)
        {
            return null;
        }
        lock (tenant.Gate)
        {
            return tenant.Queue.Count == 0 ? null : tenant.Queue.Min!.ArrivedAt;
        }
    }

    public WaitingMessage? Find(string tenantId, string key)
    {
        if (TenantOf(tenantId) is not { } tenant)
        {
            return null;
        }
        lock (tenant.Gate)
        {
            return tenant.Lookup(key)?.ToMessage();
        }
    }

    /// <summary>Whether the message is waiting (a lookup; nothing is made).</summary>
    public bool Contains(string tenantId, string key)
    {
        if (TenantOf(tenantId) is not { } tenant)
        {
            return false;
        }
        lock (tenant.Gate)
        {
            return tenant.Lookup(key) is not null;
        }
    }

    public (int Count, long Bytes) Totals(string tenantId)
    {
        if (TenantOf(tenantId) is not { } tenant)
        {
            return (0, 0);
        }
        lock (tenant.Gate)
        {
            return (tenant.Queue.Count, tenant.Bytes);
        }
    }

    /// <summary>Count and bytes waiting in one mailbox (the front door's quota check): a lookup, no walk.</summary>
    public (int Count, long Bytes) MailboxTotal(string tenantId, string mailbox)
    {
        if (TenantOf(tenantId) is not { } tenant)
        {
            return (0, 0);
        }
        lock (tenant.Gate)
        {
            return tenant.Mailboxes.TryGetValue(mailbox, out MailboxMail? m) ? (m.Messages.Count, m.Bytes) : (0, 0);
        }
    }

    /// <summary>Count and bytes per mailbox address of the tenant (one entry per mailbox holding mail; no walk over the messages).</summary>
    public IReadOnlyDictionary<string, (int Count, long Bytes)> MailboxTotals(string tenantId)
    {
        if (TenantOf(tenantId) is not { } tenant)
        {
            return new Dictionary<string, (int, long)>();
        }
        lock (tenant.Gate)
        {
            return tenant.Mailboxes.ToDictionary(m => m.Key, m => (m.Value.Messages.Count, m.Value.Bytes), StringComparer.Ordinal);
        }
    }

    /// <summary>
    /// A task that completes at the tenant's next arrival. Take it before looking at the
    /// index, then wait on it: an arrival in between is never missed.
    /// </summary>
    public Task NextArrival(string tenantId)
    {
        if (TenantOf(tenantId) is not { } tenant)
        {
            return Task.Delay(Timeout.Infinite);
        }
        lock (tenant.Gate)
        {
            return tenant.Changed.Task;
        }
    }

    private void AddBytes(long bytes) => Interlocked.Add(ref _allBytes, bytes);

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>One tenant's waiting mail: its mailboxes, its queue oldest first, its totals, under its own lock.</summary>
    private sealed class TenantMail(string id)
    {
        public string Id { get; } = id;

        public Lock Gate { get; } = new();

        /// <summary>Removed by a reload: its loop was woken, nothing is added any more.</summary>
        public bool Forgotten { get; set; }

        public Dictionary<string, MailboxMail> Mailboxes { get; } = new(StringComparer.Ordinal);

        /// <summary>Every waiting message, oldest first (arrival, then base name, then mailbox).</summary>
        public SortedSet<Entry> Queue { get; } = new(EntryOrder.Instance);

        public long Bytes { get; private set; }

        public TaskCompletionSource Changed { get; private set; } = NewSignal();

        // Note: the ":2,FLAGS" tails Dovecot gives files in cur/, and the hosts in its file names,
        // are a handful of strings shared by every entry; bounded tables, so odd names cannot make
        // them grow without end.
        private readonly Dictionary<string, string> _tails = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _hosts = new(StringComparer.Ordinal);
        private const int MaxTails = 256;

        public void Signal()
        {
            TaskCompletionSource signal = Changed;
            Changed = NewSignal();
            signal.TrySetResult();
        }

        /// <summary>The entry of a journal key ("local@domain/BASENAME"), without making a string.</summary>
        public Entry? Lookup(string key)
        {
            int slash = key.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0)
            {
                return null;
            }
            ReadOnlySpan<char> address = key.AsSpan(0, slash);
            ReadOnlySpan<char> baseName = key.AsSpan(slash + 1);
            return Mailboxes.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(address, out MailboxMail? mailbox)
                ? mailbox.Find(baseName)
                : null;
        }

        /// <summary>Adds or updates a message, keeping every total exact; the entry it had before (its arrival time kept), or null when new.</summary>
        public Entry? Put(WaitingMessage message, MailboxIndex index)
        {
            if (!Mailboxes.TryGetValue(message.Mailbox, out MailboxMail? mailbox))
            {
                mailbox = new MailboxMail(this, message.Mailbox, message.MaildirPath);
                Mailboxes[message.Mailbox] = mailbox;
            }
            if (mailbox.Find(message.BaseName) is { } known)
            {
                Resize(mailbox, known, message.Size, index);
                known.Place(message.Path, this);
                return known;
            }
            var entry = new Entry(mailbox, message.BaseName, message.Arrived.UtcTicks);
            entry.Place(message.Path, this);
            mailbox.Messages.Add(entry);
            Queue.Add(entry);
            Resize(mailbox, entry, message.Size, index);
            return null;
        }

        private void Resize(MailboxMail mailbox, Entry entry, long size, MailboxIndex index)
        {
            long change = size - entry.Size;
            entry.Size = size;
            mailbox.Bytes += change;
            Bytes += change;
            index.AddBytes(change);
        }

        public void Drop(Entry entry, MailboxIndex index)
        {
            MailboxMail mailbox = entry.Mailbox;
            mailbox.Messages.Remove(entry);
            Queue.Remove(entry);
            mailbox.Bytes -= entry.Size;
            Bytes -= entry.Size;
            index.AddBytes(-entry.Size);
            if (mailbox.Messages.Count == 0)
            {
                Mailboxes.Remove(mailbox.Address);
            }
        }

        /// <summary>The shared copy of a cur/ file's tail (":2,S").</summary>
        public string Tail(ReadOnlySpan<char> tail) => Shared(_tails, tail);

        /// <summary>The shared copy of the host in a file name of Dovecot's form.</summary>
        public string Host(string host) => Shared(_hosts, host);

        private static string Shared(Dictionary<string, string> table, ReadOnlySpan<char> text)
        {
            Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> lookup = table.GetAlternateLookup<ReadOnlySpan<char>>();
            if (lookup.TryGetValue(text, out string? shared))
            {
                return shared;
            }
            string made = text.ToString();
            if (table.Count < MaxTails)
            {
                table[made] = made;
            }
            return made;
        }
    }

    /// <summary>One mailbox: its address and maildir (shared by its entries), its messages by base name, its bytes.</summary>
    private sealed class MailboxMail(TenantMail tenant, string address, string maildir)
    {
        public TenantMail Tenant { get; } = tenant;
        public string Address { get; } = address;
        public string Maildir { get; } = maildir;
        public HashSet<Entry> Messages { get; } = new(ByBaseName.Instance);
        public long Bytes { get; set; }

        public Entry? Find(ReadOnlySpan<char> baseName) =>
            Messages.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(baseName, out Entry? entry) ? entry : null;

        /// <summary>Whether this very entry is still here (not dropped, nor replaced).</summary>
        public bool Holds(Entry entry) => Messages.TryGetValue(entry, out Entry? held) && ReferenceEquals(held, entry);
    }

    /// <summary>A mailbox's entries are told apart by base name; looked up by a span of a key, no string made.</summary>
    private sealed class ByBaseName : IEqualityComparer<Entry>, IAlternateEqualityComparer<ReadOnlySpan<char>, Entry>
    {
        public static readonly ByBaseName Instance = new();

        public bool Equals(Entry? x, Entry? y) => ReferenceEquals(x, y) || (x is not null && y is not null && x.CompareName(y) == 0);

        public int GetHashCode(Entry obj) => obj.NameHash();

        public bool Equals(ReadOnlySpan<char> alternate, Entry other) => other.NameIs(alternate);

        public int GetHashCode(ReadOnlySpan<char> alternate) => string.GetHashCode(alternate);

        public Entry Create(ReadOnlySpan<char> alternate) => throw new NotSupportedException("entries are added whole");
    }

    /// <summary>
    /// One waiting message. Arrival, base name and mailbox are fixed (they order the queue);
    /// the place and size change under the tenant's lock as Dovecot renames the file.
    /// </summary>
    private sealed class Entry(MailboxMail mailbox, string baseName, long arrivedTicks)
    {
        public MailboxMail Mailbox { get; } = mailbox;
        public long ArrivedTicks { get; } = arrivedTicks;

        // Note: kept packed (PackedName): a name of Dovecot's form as its numbers and the tenant's
        // shared copy of its host, any other as its bytes or its string; every name comes back exact.
        private readonly PackedName _name = PackedName.Of(baseName, mailbox.Tenant.Host);

        /// <summary>The base name, made anew (a read, not the hot paths: those compare in place).</summary>
        public string BaseName => _name.ToString();

        private int NameLength => _name.Length;

        public bool NameIs(ReadOnlySpan<char> name) => _name.Is(name);

        public bool NameIn(HashSet<string>.AlternateLookup<ReadOnlySpan<char>> names) => _name.In(names);

        /// <summary>The same hash as the name's characters would have (lookups come with a span of a key).</summary>
        public int NameHash() => _name.Hash();

        /// <summary>Ordinal order of the names.</summary>
        public int CompareName(Entry other) => _name.CompareTo(other._name);

        public long Size { get; set; }

        // Note: one field says where the file is: null for new/BASE, a shared tail (":2,S", or
        // "") for cur/BASE+tail, an OtherPath for a path of neither form.
        private object? _where;

        private sealed class OtherPath(string path)
        {
            public string Path { get; } = path;
        }

        public DateTimeOffset ArrivedAt => new(ArrivedTicks, TimeSpan.Zero);

        public void Place(string path, TenantMail tenant)
        {
            ReadOnlySpan<char> p = path;
            string maildir = Mailbox.Maildir;
            int name = NameLength;
            if (p.StartsWith(maildir, StringComparison.Ordinal) && p.Length >= maildir.Length + 5 + name && p[maildir.Length] == '/'
                && NameIs(p.Slice(maildir.Length + 5, name)))
            {
                ReadOnlySpan<char> sub = p.Slice(maildir.Length + 1, 4);
                ReadOnlySpan<char> tail = p[(maildir.Length + 5 + name)..];
                if (sub.SequenceEqual("new/") && tail.IsEmpty)
                {
                    _where = null;
                    return;
                }
                if (sub.SequenceEqual("cur/") && (tail.IsEmpty || tail[0] == ':'))
                {
                    _where = tail.IsEmpty ? "" : tenant.Tail(tail);
                    return;
                }
            }
            _where = new OtherPath(path);
        }

        public string Path() => _where switch
        {
            null => string.Concat(Mailbox.Maildir, "/new/", BaseName),
            string tail => string.Concat(Mailbox.Maildir, "/cur/", BaseName, tail),
            _ => ((OtherPath)_where).Path,
        };

        public bool PathIs(string path)
        {
            if (_where is OtherPath other)
            {
                return string.Equals(other.Path, path, StringComparison.Ordinal);
            }
            string maildir = Mailbox.Maildir;
            ReadOnlySpan<char> p = path;
            string tail = _where as string ?? "";
            int name = NameLength;
            return p.Length == maildir.Length + 5 + name + tail.Length
                && p.StartsWith(maildir, StringComparison.Ordinal)
                && p.Slice(maildir.Length, 5).SequenceEqual(_where is null ? "/new/" : "/cur/")
                && NameIs(p.Slice(maildir.Length + 5, name))
                && p[(maildir.Length + 5 + name)..].SequenceEqual(tail);
        }

        public string Key() => string.Concat(Mailbox.Address, "/", BaseName);

        public WaitingMessage ToMessage()
        {
            string name = BaseName;
            string path = _where switch
            {
                null => string.Concat(Mailbox.Maildir, "/new/", name),
                string tail => string.Concat(Mailbox.Maildir, "/cur/", name, tail),
                _ => ((OtherPath)_where).Path,
            };
            return new(Mailbox.Tenant.Id, Mailbox.Address, Mailbox.Maildir, name, path, Size, ArrivedAt);
        }
    }

    /// <summary>Oldest first: arrival, then base name, then mailbox (a total order: two entries are never equal).</summary>
    private sealed class EntryOrder : IComparer<Entry>
    {
        public static readonly EntryOrder Instance = new();

        public int Compare(Entry? x, Entry? y)
        {
            if (ReferenceEquals(x, y))
            {
                return 0;
            }
            int c = x!.ArrivedTicks.CompareTo(y!.ArrivedTicks);
            if (c == 0)
            {
                c = x.CompareName(y);
            }
            return c != 0 ? c : string.CompareOrdinal(x.Mailbox.Address, y.Mailbox.Address);
        }
    }

    /// <summary>A hand-over's list: references in order, each message made (under its tenant's lock) when read.</summary>
    private sealed class EntryList(TenantMail tenant, List<Entry> entries) : IReadOnlyList<WaitingMessage>
    {
        public WaitingMessage this[int index]
        {
            get
            {
                lock (tenant.Gate)
                {
                    return entries[index].ToMessage();
                }
            }
        }

        public int Count => entries.Count;

        public IEnumerator<WaitingMessage> GetEnumerator()
        {
            for (int i = 0; i < entries.Count; i++)
            {
                yield return this[i];
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
