using Microsoft.Extensions.Logging.Abstractions;
using Respaldo.Configuration;
using Respaldo.Events;
using Respaldo.HandOver;
using Respaldo.Holds;
using Respaldo.Mailboxes;
using Respaldo.Tests.Smtp;

namespace Respaldo.Tests.HandOver;

/// <summary>
/// The node's hand-over connections (controller.maxConnections) against a scripted primary that
/// counts its sessions: runs that want more connections than the node allows share what it
/// allows, every message still goes once, and a worker that waits for a slot keeps its run
/// alive, opens nothing, and ends at a stop without touching a message.
/// </summary>
public sealed class ConnectionSlotsTests : IAsyncDisposable
{
    private readonly ScriptedPrimary _primary = new() { StallAfterData = TimeSpan.FromMilliseconds(50) };
    private readonly string _dir = Directory.CreateTempSubdirectory("respaldo-slots-").FullName;
    private readonly RespaldoSettings _settings;
    private readonly global::Respaldo.Journaling.Journal _journal;
    private readonly MailboxIndex _index = new(["suempresa"]);
    private int _stored;

    public ConnectionSlotsTests()
    {
        _settings = OneTenantSettings.For(_dir, _primary.Port);
        _journal = global::Respaldo.Journaling.Journal.Open(_settings.JournalPath, NullLogger.Instance);
    }

    public async ValueTask DisposeAsync()
    {
        await _journal.DisposeAsync();
        await _primary.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private List<WaitingMessage> Store(int count)
    {
        List<WaitingMessage> stored = TestMaildir.Store(_settings, _stored + 1, count, n => $"body {n}", _index);
        _stored += count;
        return stored;
    }

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        DateTime end = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < end, $"not within 15 s: {what}");
            await Task.Delay(50);
        }
    }

    private HandOverRun Run(List<WaitingMessage> waiting, ConnectionSlots slots, int connections)
    {
        var context = new HandOverContext(_settings, _journal, _index, new HoldArea(_settings.HoldRoot), new RetrySchedule(TimeSpan.FromMinutes(10)),
            new ControllerEvents(), TimeProvider.System, NullLogger.Instance) { Slots = slots };
        Tenant tenant = _settings.Tenants[0] with { Primary = _settings.Tenants[0].Primary with { Connections = connections } };
        return new HandOverRun(tenant, tenant.Primary.Hosts[0], waiting, context);
    }

    [Fact]
    public async Task RunsThatWantMoreConnectionsThanTheNodeAllowsShareItsSlotsAndEveryMessageGoesOnce()
    {
        var slots = new ConnectionSlots(3);
        List<WaitingMessage> first = Store(24);
        List<WaitingMessage> second = Store(24);

        // Two runs of four connections each, as two tenants' runs would be: eight wanted, three allowed.
        HandOverProgress[] done = await Task.WhenAll(Run(first, slots, 4).ExecuteAsync(CancellationToken.None), Run(second, slots, 4).ExecuteAsync(CancellationToken.None))
            .WaitAsync(TimeSpan.FromSeconds(60));

        Assert.All(done, p => Assert.Equal(24, p.Delivered));
        Assert.Equal(48, _primary.Messages.Count);
        Assert.All(first.Concat(second), m => Assert.False(File.Exists(m.Path), $"{m.BaseName} is still at the backup"));
        // The cap was reached (the runs did overlap) and never passed.
        Assert.Equal(3, _primary.MostSessionsAtOnce);
        Assert.Equal(0, slots.InUse);
        Assert.Equal(0, slots.Waiting);
    }

    [Fact]
    public async Task WaitersAreServedInTheOrderTheyCameAndAReloadsLimitTakesEffectInPlace()
    {
        var slots = new ConnectionSlots(1);
        Assert.True(slots.TryTake());
        using var stopSecond = new CancellationTokenSource();
        Task<bool> first = slots.TakeAsync(TimeSpan.FromSeconds(1), () => { }, TimeProvider.System, CancellationToken.None);
        Task<bool> second = slots.TakeAsync(TimeSpan.FromSeconds(1), () => { }, TimeProvider.System, stopSecond.Token);
        Task<bool> third = slots.TakeAsync(TimeSpan.FromSeconds(1), () => { }, TimeProvider.System, CancellationToken.None);
        Assert.Equal(3, slots.Waiting);

        // A stopped waiter leaves the queue without a slot.
        await stopSecond.CancelAsync();
        Assert.False(await second.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(2, slots.Waiting);

        slots.Release();
        Assert.True(await first.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.False(third.IsCompleted);
        // A reload that raises the limit serves the waiting at once...
        slots.SetLimit(2);
        Assert.True(await third.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal((2, 0), (slots.InUse, slots.Waiting));
        // ...and one that lowers it takes no slot away: it holds as they are given back.
        slots.SetLimit(1);
        Assert.False(slots.TryTake());
        slots.Release();
        Assert.False(slots.TryTake());
        slots.Release();
        Assert.True(slots.TryTake());
        Assert.Equal(1, slots.InUse);
    }

    [Fact]
    public async Task AWorkerWaitingForASlotKeepsItsRunAliveOpensNothingAndGoesOnceASlotIsFree()
    {
        var slots = new ConnectionSlots(1);
        // Note: the one slot is taken, as another tenant's connection would hold it.
        Assert.True(slots.TryTake());
        List<WaitingMessage> waiting = Store(3);
        HandOverRun run = Run(waiting, slots, 1);
        Task<HandOverProgress> running = run.ExecuteAsync(CancellationToken.None);

        // The wait counts as activity, beat after beat, so the tenant's watchdog does not take it for a hang.
        await UntilAsync(() => run.Progress.Activity.Count >= 2, "two beats of a worker waiting for a slot");
        Assert.False(running.IsCompleted);
        Assert.Equal(1, slots.Waiting);
        Assert.Equal(0, _primary.MostSessionsAtOnce);

        slots.Release();
        HandOverProgress progress = await running.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(3, progress.Delivered);
        Assert.Equal(3, _primary.Messages.Count);
        Assert.Equal(0, slots.InUse);
    }

    [Fact]
    public async Task AWaitingWorkerDoesNotBeatForItsRunWhileAnotherOfItsWorkersHoldsASlot()
    {
        // Note: the primary sits on each end of data: the worker with the slot shows no progress meanwhile.
        _primary.StallAfterData = TimeSpan.FromSeconds(3.5);
        var slots = new ConnectionSlots(2);
        Assert.True(slots.TryTake());
        List<WaitingMessage> waiting = Store(4);
        HandOverRun run = Run(waiting, slots, 2);
        Task<HandOverProgress> running = run.ExecuteAsync(CancellationToken.None);
        await UntilAsync(() => _primary.Messages.Count == 1 && slots.Waiting == 1, "one worker's first message at the stalled primary, the other waiting");
        await Task.Delay(200);
        long before = run.Progress.Activity.Count;

        // The waiting worker's beats would hide a worker of its own run that hangs: none while one holds a slot.
        await Task.Delay(TimeSpan.FromSeconds(2.2));
        Assert.Equal(1, slots.Waiting);
        Assert.Equal(before, run.Progress.Activity.Count);

        slots.Release();
        HandOverProgress progress = await running.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(4, progress.Delivered);
    }

    [Fact]
    public async Task AStopEndsAWorkerStillWaitingForASlotWithoutAConnectionAndEveryCopyStays()
    {
        var slots = new ConnectionSlots(1);
        Assert.True(slots.TryTake());
        List<WaitingMessage> waiting = Store(3);
        using var stop = new CancellationTokenSource();
        Task<HandOverProgress> running = Run(waiting, slots, 2).ExecuteAsync(stop.Token, CancellationToken.None);
        await UntilAsync(() => slots.Waiting == 2, "both workers waiting for a slot");

        await stop.CancelAsync();
        HandOverProgress progress = await running.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(0, progress.Delivered + progress.Deferred + progress.Held);
        Assert.Equal(0, _primary.MostSessionsAtOnce);
        // Nothing is known of the primary: no "primary down" (and no alert) comes of a stop in the queue.
        Assert.False(progress.PrimaryLost);
        Assert.Equal("stopped before any connection", progress.StopReason);
        Assert.All(waiting, m => Assert.True(File.Exists(m.Path), $"{m.BaseName} was touched"));
        // The test's own slot is the only one held: the stopped workers took none with them.
        Assert.Equal((1, 0), (slots.InUse, slots.Waiting));
    }
}
