namespace Respaldo.Mailboxes;

/// <summary>
/// Step 1, "watch the mailboxes": what waits in every backup mailbox, kept current by the
/// watcher (inotify plus periodic rescans) so that nobody lists directories to ask. All
/// members are thread-safe. <see cref="Arrived"/> fires once per message first seen.
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

    /// <summary>Raised (outside the lock) for each message seen for the first time.</summary>
    public event Action<WaitingMessage>? Arrived;

    private sealed class TenantMail
    {
        public Dictionary<string, WaitingMessage> Messages { get; } = new(StringComparer.Ordinal);
        public long Bytes { get; set; }
        public TaskCompletionSource Changed { get; set; } = NewSignal();
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
                tenant.Bytes -= known.Size;
                message = message with { Arrived = known.Arrived };
            }
            tenant.Messages[message.Key] = message;
            tenant.Bytes += message.Size;
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
            tenant.Messages.Remove(key);
            tenant.Bytes -= known.Size;
            return true;
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
            foreach (WaitingMessage old in tenant.Messages.Values.Where(m => m.Mailbox == mailbox && !keep.Contains(m.Key)).ToList())
            {
                // Note: the scan listed this mailbox a moment ago; a message that arrived since
                // was added by inotify and is missing from the listing. Drop only what is gone.
                if (File.Exists(old.Path))
                {
                    continue;
                }
                tenant.Messages.Remove(old.Key);
                tenant.Bytes -= old.Size;
            }
            foreach (WaitingMessage m in found)
            {
                if (tenant.Messages.TryGetValue(m.Key, out WaitingMessage? known))
                {
                    tenant.Bytes += m.Size - known.Size;
                    tenant.Messages[m.Key] = m with { Arrived = known.Arrived };
                }
                else
                {
                    tenant.Messages[m.Key] = m;
                    tenant.Bytes += m.Size;
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
            return _tenants.SelectMany(t => t.Value.Messages.Values.Select(m => (t.Key, m.Mailbox))).Distinct().ToList();
        }
    }

    /// <summary>The tenant's waiting messages, oldest first (docs/ARCHITECTURE.md, "Order and pace").</summary>
    public IReadOnlyList<WaitingMessage> Snapshot(string tenantId)
    {
        lock (_lock)
        {
            return _tenants.TryGetValue(tenantId, out TenantMail? tenant)
                ? tenant.Messages.Values.OrderBy(m => m.Arrived).ThenBy(m => m.BaseName, StringComparer.Ordinal).ToList()
                : [];
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

    /// <summary>Count and bytes per mailbox address of the tenant.</summary>
    public IReadOnlyDictionary<string, (int Count, long Bytes)> MailboxTotals(string tenantId)
    {
        lock (_lock)
        {
            if (!_tenants.TryGetValue(tenantId, out TenantMail? tenant))
            {
                return new Dictionary<string, (int, long)>();
            }
            return tenant.Messages.Values
                .GroupBy(m => m.Mailbox, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => (g.Count(), g.Sum(m => m.Size)), StringComparer.Ordinal);
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
