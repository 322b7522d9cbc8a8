namespace Respaldo.Policy;

/// <summary>
/// Which tenants a mail transaction's accepted recipients belong to, remembered from RCPT to
/// END-OF-MESSAGE: at the end of data Postfix sends the message's real size but names the
/// recipient only when there is one. Keyed by Postfix's <c>instance</c> attribute; forgotten at
/// END-OF-MESSAGE, and swept after an hour for transactions that never got there (RSET, QUIT).
/// </summary>
public sealed class TransactionMemory(TimeProvider time)
{
    private const int SweepAbove = 1000;
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);

    private readonly object _lock = new();
    private readonly Dictionary<string, (DateTimeOffset At, Dictionary<string, int> Tenants)> _transactions = new(StringComparer.Ordinal);

    public void Remember(string instance, string tenantId)
    {
        if (instance.Length == 0)
        {
            return;
        }
        lock (_lock)
        {
            if (_transactions.Count > SweepAbove)
            {
                DateTimeOffset cutoff = time.GetUtcNow() - Lifetime;
                foreach (string stale in _transactions.Where(t => t.Value.At < cutoff).Select(t => t.Key).ToList())
                {
                    _transactions.Remove(stale);
                }
            }
            if (!_transactions.TryGetValue(instance, out var entry))
            {
                entry = (time.GetUtcNow(), new Dictionary<string, int>(StringComparer.Ordinal));
                _transactions[instance] = entry;
            }
            entry.Tenants[tenantId] = entry.Tenants.GetValueOrDefault(tenantId) + 1;
        }
    }

    /// <summary>Recipients accepted per tenant in this transaction (empty if unknown), and forgets it.</summary>
    public IReadOnlyDictionary<string, int> Take(string instance)
    {
        lock (_lock)
        {
            return _transactions.Remove(instance, out var entry) ? entry.Tenants : new Dictionary<string, int>();
        }
    }
}
