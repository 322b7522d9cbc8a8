using Microsoft.Extensions.Time.Testing;
using Respaldo.Supervision;
using Respaldo.Health;

namespace Respaldo.Tests.Supervision;

/// <summary>What /healthz and the systemd watchdog both ask: which loop stopped beating.</summary>
public sealed class LivenessTests
{
    [Fact]
    public void AllBeatingIsOk()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 9, 0, 0, TimeSpan.Zero));
        var tenant = new Heartbeat("tenant suempresa", time);
        var watcher = new Heartbeat("mailbox watcher", time);
        tenant.Beat(TimeSpan.FromSeconds(30));
        watcher.Beat(TimeSpan.FromSeconds(60));
        time.Advance(TimeSpan.FromSeconds(30));

        Liveness liveness = Liveness.Of([tenant, watcher], time.GetUtcNow());

        Assert.True(liveness.IsAlive);
        Assert.Equal("ok\n", liveness.Text);
    }

    [Fact]
    public void ATenantLoopPastItsDeadlineIsNamedAsStuck()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 9, 0, 0, TimeSpan.Zero));
        var stuck = new Heartbeat("tenant suempresa", time);
        var other = new Heartbeat("tenant otra", time);
        var watcher = new Heartbeat("mailbox watcher", time);
        stuck.Beat(TimeSpan.FromSeconds(30));
        watcher.Beat(TimeSpan.FromSeconds(60));
        time.Advance(TimeSpan.FromSeconds(31));
        other.Beat(TimeSpan.FromSeconds(30));

        Liveness liveness = Liveness.Of([stuck, other, watcher], time.GetUtcNow());

        Assert.False(liveness.IsAlive);
        Assert.Equal(["tenant suempresa"], liveness.Overdue);
        Assert.Equal("stuck: tenant suempresa\n", liveness.Text);
    }

    [Fact]
    public void EveryOverdueLoopIsNamedAndAStoppedOneIsNot()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 9, 0, 0, TimeSpan.Zero));
        var tenant = new Heartbeat("tenant suempresa", time);
        var watcher = new Heartbeat("mailbox watcher", time);
        var reloaded = new Heartbeat("tenant vieja", time);
        tenant.Beat(TimeSpan.FromSeconds(5));
        watcher.Beat(TimeSpan.FromSeconds(5));
        reloaded.Beat(TimeSpan.FromSeconds(5));
        reloaded.Stop();
        time.Advance(TimeSpan.FromMinutes(2));

        Liveness liveness = Liveness.Of([tenant, watcher, reloaded], time.GetUtcNow());

        Assert.Equal("stuck: tenant suempresa, mailbox watcher\n", liveness.Text);
    }
}
