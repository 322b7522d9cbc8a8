using System.Runtime;

namespace Respaldo.Supervision;

/// <summary>
/// Gives the start-up scan's garbage back to the system. The first full scan makes several
/// short-lived objects per waiting message (the listing's paths, a <c>WaitingMessage</c> each,
/// the reconciliation's batches of keys and the journal's queued arrival rows); many of them
/// live long enough to be promoted, so they end up in the oldest generation beside the index,
/// and a daemon that then goes quiet never collects it again: measured (bench-scale, 100,000
/// waiting) that kept its resident memory at about 1,000 bytes a message where the index
/// needs about 230. One blocking, compacting, decommitting collection once the scan and its
/// journal writes are done packs the index together and returns the rest.
/// </summary>
public static class MemorySettle
{
    /// <summary>A full compacting collection (large object heap included) that decommits what it freed; returns the GC's committed bytes it gave back and the live heap after it.</summary>
    public static (long Freed, long Heap) Compact()
    {
        long before = GC.GetGCMemoryInfo(GCKind.Any).TotalCommittedBytes;
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GCMemoryInfo after = GC.GetGCMemoryInfo(GCKind.Any);
        return (before - after.TotalCommittedBytes, after.HeapSizeBytes);
    }
}
