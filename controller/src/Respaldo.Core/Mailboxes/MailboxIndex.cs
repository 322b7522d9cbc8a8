namespace Respaldo.Mailboxes;

/// <summary>
/// Step 1, "watch the mailboxes": what waits in every backup mailbox, kept current by the
/// watcher (inotify plus periodic rescans) so that nobody lists directories to ask. All
/// members are thread-safe. <see cref="Arrived"/> fires once per message first seen.
/// Note: counts and bytes per tenant and per mailbox are kept as messages come and go, so
/// the front door's questions at every RCPT and end of data (<see cref="Totals"/>,
/// <see cref="MailboxTotal"/>) cost the same with ten or a million waiting messages.
/// </summary>
public sealed class MailboxIndex
{
    private readonly object _lock = new();
    private readonly Dictionary<string, TenantMail> _tenants = new(StringComparer.Ordinal);

    public MailboxIndex(IEnumerable<string> tenantIds)
    {
        foreach (string id in tenantIds)
        {
            _tenants[id] = new TenantMail();
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
        lock (_lock)
        {
            foreach (string id in _tenants.Keys.Where(id => !wanted.Contains(id)).ToList())
            {
                _tenants.Remove(id, out TenantMail? gone);
                Signal(gone!);
            }
            foreach (string id in wanted.Where(id => !_tenants.ContainsKey(id)))
            {
                _tenants[id] = new TenantMail();
            }
        }
    }

    /// <summary>Raised (outside the lock) for each message seen for the first time.</summary>
    public event Action<WaitingMessage>? Arrived;

    /// <summary>Messages visited by walks over the index (snapshots, rescans): what the front door's lookups must never add to.</summary>
    internal long MessagesVisited { get; private set; }

    private sealed class TenantMail
    {
        private readonly Dictionary<string, WaitingMessage> _messages = new(StringComparer.Ordinal);

        public IReadOnlyDictionary<string, WaitingMessage> Messages => _messages;

        /// <summary>Each mailbox's messages by key, with their bytes.</summary>
        public Dictionary<string, MailboxMail> Mailboxes { get; } = new(StringComparer.Ordinal);

        public long Bytes { get; private set; }

        public TaskCompletionSource Changed { get; set; } = NewSignal();

        /// <summary>Adds or replaces a message, keeping every total exact.</summary>
        public void Put(WaitingMessage message)
        {
            Drop(message.Key);
            _messages[message.Key] = message;
            if (!Mailboxes.TryGetValue(message.Mailbox, out MailboxMail? mailbox))
            {
                mailbox = new MailboxMail();
                Mailboxes[message.Mailbox] = mailbox;
            }
            mailbox.Messages[message.Key] = message;
            mailbox.Bytes += message.Size;
            Bytes += message.Size;
        }

        public bool Drop(string key)
        {
            if (!_messages.Remove(key, out WaitingMessage? known))
            {
                return false;
            }
            Bytes -= known.Size;
            MailboxMail mailbox = Mailboxes[known.Mailbox];
            mailbox.Messages.Remove(key);
            mailbox.Bytes -= known.Size;
            if (mailbox.Messages.Count == 0)
            {
                Mailboxes.Remove(known.Mailbox);
            }
            return true;
        }
    }

    private sealed class MailboxMail
    {
        public Dictionary<string, WaitingMessage> Messages { get; } = new(StringComparer.Ordinal);
        public long Bytes { get; set; }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Adds a message, or records its new path (Dovecot renamed new/ to cur/).</summary>
    public void Upsert(WaitingMessage message)
    {
        bool added;
        lock (_lock)
        {
            if (!_tenants.TryGetValue(message.TenantId, out TenantMail? tenant))
            {
                return;
            }
            added = !tenant.Messages.TryGetValue(message.Key, out WaitingMessage? known);
            if (known is not null)
            {
                message = message with { Arrived = known.Arrived };
            }
            tenant.Put(message);
            if (added)
            {
                Signal(tenant);
            }
        }
        if (added)
        {
            Arrived?.Invoke(message);
        }
    }

    /// <summary>Forgets a message (handed over, held, or gone). With <paramref name="onlyAtPath"/>, only if it was last seen there.</summary>
    public bool Remove(string tenantId, string key, string? onlyAtPath = null)
    {
        lock (_lock)
        {
            if (!_tenants.TryGetValue(tenantId, out TenantMail? tenant)
                || !tenant.Messages.TryGetValue(key, out WaitingMessage? known)
                || (onlyAtPath is not null && known.Path != onlyAtPath))
            {
                return false;
            }
            return tenant.Drop(key);
        }
    }

    /// <summary>
    /// Makes one mailbox's entries match <paramref name="found"/> (a full scan's view):
    /// new ones are added (and announced), vanished ones (no longer on disk) dropped.
    /// </summary>
    public void ReplaceMailbox(string tenantId, string mailbox, IReadOnlyCollection<WaitingMessage> found)
    {
        var arrived = new List<WaitingMessage>();
        lock (_lock)
        {
            if (!_tenants.TryGetValue(tenantId, out TenantMail? tenant))
            {
                return;
            }
            var keep = new HashSet<string>(found.Select(m => m.Key), StringComparer.Ordinal);
            List<WaitingMessage> vanished = tenant.Mailboxes.TryGetValue(mailbox, out MailboxMail? current)
                ? current.Messages.Values.Where(m => !keep.Contains(m.Key)).ToList()
                : [];
            MessagesVisited += current?.Messages.Count ?? 0;
            foreach (WaitingMessage old in vanished)
            {
                // Note: the scan listed this mailbox a moment ago; a message that arrived since
                // was added by inotify and is missing from the listing. Drop only what is gone.
                if (File.Exists(old.Path))
                {
                    continue;
                }
                tenant.Drop(old.Key);
            }
            foreach (WaitingMessage m in found)
            {
                if (tenant.Messages.TryGetValue(m.Key, out WaitingMessage? known))
                {
                    tenant.Put(m with { Arrived = known.Arrived });
                }
                else
                {
                    tenant.Put(m);
                    arrived.Add(m);
                }
            }
            if (arrived.Count > 0)
            {
                Signal(tenant);
            }
        }
        foreach (WaitingMessage m in arrived)
        {
            Arrived?.Invoke(m);
        }
    }

    /// <summary>Mailboxes the index holds messages for (a scan must also visit these, even if their directory is gone).</summary>
    public IReadOnlyList<(string TenantId, string Mailbox)> KnownMailboxes()
    {
        lock (_lock)
        {
            return _tenants.SelectMany(t => t.Value.Mailboxes.Keys.Select(m => (t.Key, m))).ToList();
        }
    }

    /// <summary>The tenant's waiting messages, oldest first (docs/ARCHITECTURE.md, "Order and pace").</summary>
    public IReadOnlyList<WaitingMessage> Snapshot(string tenantId)
    {
        lock (_lock)
        {
            if (!_tenants.TryGetValue(tenantId, out TenantMail? tenant))
            {
                return [];
            }
            MessagesVisited += tenant.Messages.Count;
            return tenant.Messages.Values.OrderBy(m => m.Arrived).ThenBy(m => m.BaseName, StringComparer.Ordinal).ToList();
        }
    }

    /// <summary>
    /// When the tenant's oldest waiting message arrived (null: nothing waits). Note: a walk over the
    /// tenant's messages (one comparison each), for /metrics at each scrape; the front door never asks.
    /// </summary>
    public DateTimeOffset? OldestArrival(string tenantId)
    {
        lock (_lock)
        {
            if (!_tenants.TryGetValue(tenantId, out TenantMail? tenant) || tenant.Messages.Count == 0)
            {
                return null;
            }
            MessagesVisited += tenant.Messages.Count;
            DateTimeOffset oldest = DateTimeOffset.MaxValue;
            foreach (WaitingMessage m in tenant.Messages.Values)
            {
                if (m.Arrived < oldest)
                {
                    oldest = m.Arrived;
                }
            }
            return oldest;
        }
    }

    public WaitingMessage? Find(string tenantId, string key)
    {
        lock (_lock)
        {
            return _tenants.TryGetValue(tenantId, out TenantMail? tenant) && tenant.Messages.TryGetValue(key, out WaitingMessage? m) ? m : null;
        }
    }

    public (int Count, long Bytes) Totals(string tenantId)
    {
        lock (_lock)
        {
            return _tenants.TryGetValue(tenantId, out TenantMail? tenant) ? (tenant.Messages.Count, tenant.Bytes) : (0, 0);
        }
    }

    /// <summary>Count and bytes waiting in one mailbox (the front door's quota check): a lookup, no walk.</summary>
    public (int Count, long Bytes) MailboxTotal(string tenantId, string mailbox)
    {
        lock (_lock)
        {
            return _tenants.TryGetValue(tenantId, out TenantMail? tenant) && tenant.Mailboxes.TryGetValue(mailbox, out MailboxMail? m)
                ? (m.Messages.Count, m.Bytes)
                : (0, 0);
        }
    }

    /// <summary>Count and bytes per mailbox address of the tenant (one entry per mailbox holding mail; no walk over the messages).</summary>
    public IReadOnlyDictionary<string, (int Count, long Bytes)> MailboxTotals(string tenantId)
    {
        lock (_lock)
        {
            if (!_tenants.TryGetValue(tenantId, out TenantMail? tenant))
            {
                return new Dictionary<string, (int, long)>();
            }
            return tenant.Mailboxes.ToDictionary(m => m.Key, m => (m.Value.Messages.Count, m.Value.Bytes), StringComparer.Ordinal);
        }
    }

    /// <summary>
    /// A task that completes at the tenant's next arrival. Take it before looking at the
    /// index, then wait on it: an arrival in between is never missed.
    /// </summary>
    public Task NextArrival(string tenantId)
    {
        lock (_lock)
        {
            return _tenants.TryGetValue(tenantId, out TenantMail? tenant) ? tenant.Changed.Task : Task.Delay(Timeout.Infinite);
        }
    }

    private static void Signal(TenantMail tenant)
    {
        TaskCompletionSource signal = tenant.Changed;
        tenant.Changed = NewSignal();
        signal.TrySetResult();
    }
}
