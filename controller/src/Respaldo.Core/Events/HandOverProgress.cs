namespace Respaldo.Events;

/// <summary>Live progress of one hand-over run, read by the dashboard and respaldoctl while it runs.</summary>
public sealed class HandOverProgress(string tenantId, string host, int total, DateTimeOffset started)
{
    private int _delivered;
    private int _deferred;
    private int _held;
    private int _skipped;
    private long _bytes;

    public string TenantId { get; } = tenantId;
    public string Host { get; } = host;
    public int Total { get; } = total;
    public DateTimeOffset Started { get; } = started;
    public DateTimeOffset? Finished { get; private set; }
    public int Delivered => Volatile.Read(ref _delivered);
    public int Deferred => Volatile.Read(ref _deferred);
    public int Held => Volatile.Read(ref _held);

    /// <summary>Names that turned out not to be messages (a FIFO, a symlink...): left alone.</summary>
    public int Skipped => Volatile.Read(ref _skipped);
    public long Bytes => Interlocked.Read(ref _bytes);
    public int Done => Delivered + Deferred + Held + Skipped;
    public bool PrimaryLost { get; internal set; }

    /// <summary>Bytes moving on the run's connections (every slice written, every reply read): the supervisor beats on it.</summary>
    public Smtp.ActivityCounter Activity { get; } = new();
    public string? StopReason { get; internal set; }

    internal void AddDelivered(long size)
    {
        Interlocked.Increment(ref _delivered);
        Interlocked.Add(ref _bytes, size);
    }

    internal void AddDeferred() => Interlocked.Increment(ref _deferred);

    internal void AddHeld() => Interlocked.Increment(ref _held);

    internal void AddSkipped() => Interlocked.Increment(ref _skipped);

    internal void Finish(DateTimeOffset at) => Finished = at;

    /// <summary>Messages per second so far.</summary>
    public double Rate(DateTimeOffset now)
    {
        double seconds = ((Finished ?? now) - Started).TotalSeconds;
        return seconds <= 0 ? 0 : Delivered / seconds;
    }
}
