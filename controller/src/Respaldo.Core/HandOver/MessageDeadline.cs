using Respaldo.Configuration;

namespace Respaldo.HandOver;

/// <summary>
/// How long one message may take on an open connection, from MAIL FROM to the reply to its
/// final dot: the envelope's three replies and the first slice of data (a command timeout
/// each), the data at the slowest rate still accepted (controller.minimumDataRate), and the
/// reply to the final dot (dataTimeout). It grows with the message: a 50 MiB message to a
/// primary that reads 75 kB/s needs about 12 minutes and gets them; a tarpit that takes a byte
/// now and then to dodge the per-write timeout is cut when the deadline comes, and the message
/// is deferred (no final dot was sent: the primary discards what it got).
/// </summary>
public static class MessageDeadline
{
    public static TimeSpan For(long wireSize, TimeSpan commandTimeout, TimeSpan dataTimeout, long minimumBytesPerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minimumBytesPerSecond);
        TimeSpan data = TimeSpan.FromSeconds((double)Math.Max(0, wireSize) / minimumBytesPerSecond);
        return (commandTimeout * 4) + data + dataTimeout;
    }

    public static TimeSpan For(long wireSize, ControllerSettings settings) =>
        For(wireSize, settings.CommandTimeout, settings.DataTimeout, settings.MinimumDataRate);

    /// <summary>
    /// SO_SNDBUF of a hand-over connection. What the kernel buffers counts as sent, and after
    /// the final dot the primary must still read it all before it can answer, within
    /// dataTimeout: autotuned, the buffer grows to 4 MiB, which a primary at the minimum rate
    /// (10 KiB/s) drains in 400 s, more than the 300 s the reply may take, and a delivery
    /// the primary makes after we gave up is a duplicate. Half of what the minimum rate drains
    /// within dataTimeout, from 64 KiB to 4 MiB (found by the chaos tier's tarpit).
    /// </summary>
    public static int SendBuffer(ControllerSettings settings)
    {
        double half = settings.MinimumDataRate * settings.DataTimeout.TotalSeconds / 2;
        return (int)Math.Clamp(half, 64 * 1024, 4 * 1024 * 1024);
    }
}
