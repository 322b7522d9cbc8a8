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
    /// SO_SNDBUF of a hand-over connection. Autotuned, the kernel's buffer grows to 4 MiB, and
    /// that breaks both timeouts for a slow primary: the kernel wakes a blocked writer only when
    /// half the queue has drained (a primary at the minimum rate, 10 KiB/s, would make one write
    /// wait minutes, past the command timeout), and after the final dot the primary must still
    /// read all of it before it can answer (400 s, past dataTimeout: a delivery it makes after we
    /// gave up is a duplicate). So: what the minimum rate drains in half the shorter of the two
    /// timeouts (Linux doubles the value), from 64 KiB to 4 MiB; 300 KiB by default. Found by the
    /// chaos tier's throttled primary.
    /// </summary>
    public static int SendBuffer(ControllerSettings settings)
    {
        TimeSpan shorter = settings.CommandTimeout < settings.DataTimeout ? settings.CommandTimeout : settings.DataTimeout;
        double half = settings.MinimumDataRate * shorter.TotalSeconds / 2;
        return (int)Math.Clamp(half, 64 * 1024, 4 * 1024 * 1024);
    }
}
