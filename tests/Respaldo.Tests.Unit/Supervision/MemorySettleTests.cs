using System.Runtime.CompilerServices;
using Respaldo.Supervision;

namespace Respaldo.Tests.Supervision;

[CollectionDefinition(nameof(MemorySettleTests), DisableParallelization = true)]
public sealed class MemorySettleCollection;

[Collection(nameof(MemorySettleTests))]
public sealed class MemorySettleTests
{
    [Fact]
    public void PromotedGarbageIsCollectedAndItsMemoryReturned()
    {
        // What the start-up scan leaves: many small objects that lived long enough to reach
        // the oldest generation, then died while nothing made the collector look again.
        GC.Collect();
        long live = GC.GetGCMemoryInfo(GCKind.Any).HeapSizeBytes;
        MakePromotedGarbage(48 * 1024);

        (long freed, long heap) = MemorySettle.Compact();

        Assert.True(freed >= 16L * 1024 * 1024, $"returned {freed} bytes of the collector's memory");
        Assert.True(heap < live + 16L * 1024 * 1024, $"{heap} bytes of objects still live, {live} before the garbage");
        Assert.True(GC.GetGCMemoryInfo(GCKind.FullBlocking).Compacted);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void MakePromotedGarbage(int kib)
    {
        var held = new List<byte[]>(kib);
        for (int i = 0; i < kib; i++)
        {
            held.Add(new byte[1000]);
        }
        GC.Collect();
        GC.Collect();
        GC.KeepAlive(held);
    }
}
