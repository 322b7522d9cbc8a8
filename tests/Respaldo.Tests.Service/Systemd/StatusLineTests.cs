using Respaldo.Daemon.Systemd;
using Respaldo.HandOver;
using Respaldo.Primary;
using Respaldo.Events;

namespace Respaldo.Tests.Service.Systemd;

/// <summary>The STATUS= text systemctl shows, composed from the tenants' state (pure).</summary>
public sealed class StatusLineTests
{
    private static readonly TimeZoneInfo Madrid = TimeZoneInfo.FindSystemTimeZoneById("Europe/Madrid");
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 11, 0, 0, TimeSpan.Zero);

    private static TenantGlance Down(string id, string host, int waiting, DateTimeOffset since) =>
        new(id, host, PrimaryStatus.Down, since, waiting, null);

    [Fact]
    public void SaysHowManyMessagesWaitForWhichPrimaryAndSinceWhenItIsDown()
    {
        string line = StatusLine.Compose([Down("suempresa", "mail.suempresa.es", 3, new DateTimeOffset(2026, 11, 27, 9, 42, 0, TimeSpan.Zero))], Madrid, Now);
        Assert.Equal("3 messages waiting for mail.suempresa.es, primary down since 10:42", line);
    }

    [Fact]
    public void NamesTheDayWhenTheOutageBeganBeforeToday()
    {
        string line = StatusLine.Compose([Down("a", "mx.a.es", 1, new DateTimeOffset(2026, 11, 25, 22, 5, 0, TimeSpan.Zero))], Madrid, Now);
        Assert.Equal("1 message waiting for mx.a.es, primary down since Nov 25 23:05", line);
    }

    [Fact]
    public void SaysSoWhenNothingWaits()
    {
        TenantGlance idle = new("a", "mx.a.es", PrimaryStatus.Up, Now, 0, null);
        Assert.Equal("nothing waiting; watching 2 tenant(s)", StatusLine.Compose([idle, idle with { TenantId = "b" }], Madrid, Now));
    }

    [Fact]
    public void PutsARunningHandOverFirstWithItsProgress()
    {
        var progress = new HandOverProgress("b", "mx.b.es:25", 500, Now.AddSeconds(-10));
        TenantGlance running = new("b", "mx.b.es", PrimaryStatus.Up, Now, 500, progress);
        string line = StatusLine.Compose([Down("a", "mx.a.es", 7, Now.AddMinutes(-5)), running], Madrid, Now);
        Assert.Equal("handing over to mx.b.es: 0/500 (0 msg/s); 7 messages waiting for mx.a.es, primary down since 11:55", line);
    }

    [Fact]
    public void SpellsOutTheBusiestTenantsAndCountsTheRest()
    {
        var tenants = Enumerable.Range(1, 5).Select(i => Down($"t{i}", $"mx{i}.es", i, Now.AddMinutes(-1))).ToList();
        string line = StatusLine.Compose(tenants, Madrid, Now);
        Assert.StartsWith("5 messages waiting for mx5.es", line, StringComparison.Ordinal);
        Assert.EndsWith("; 2 more tenant(s) with mail waiting", line, StringComparison.Ordinal);
    }

    [Fact]
    public void AppendsARefusedReload()
    {
        string line = StatusLine.Compose([], Madrid, Now, "reload refused at 11:59 (2 error(s), see the log)");
        Assert.Equal("nothing waiting; watching 0 tenant(s) — reload refused at 11:59 (2 error(s), see the log)", line);
    }
}

public sealed class SystemdNotifierTests
{
    [Fact]
    public void MonotonicMicrosecondsIsTheSystemsMonotonicClock()
    {
        // /proc/uptime counts CLOCK_BOOTTIME; without a suspend it equals CLOCK_MONOTONIC.
        double uptime = double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        long micros = SystemdNotifier.MonotonicMicroseconds();
        Assert.True(micros > 0);
        Assert.InRange(micros / 1e6, 0, uptime + 1);
    }
}
