using Microsoft.Extensions.Time.Testing;
using Respaldo.Configuration;
using Respaldo.Primary;

namespace Respaldo.Tests.Primary;

public sealed class PortChecksTests
{
    private static readonly TimeSpan Fresh = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UnixEpoch);
    private readonly HostPort _primary = new("primary.example", 25);

    [Fact]
    public async Task ManyTenantsOfOneHostMakeOneConnectWhileItIsFresh()
    {
        int connects = 0;
        var checks = new PortChecks(_time, (_, _) => { connects++; return Task.FromResult(false); });
        for (int tenant = 0; tenant < 1000; tenant++)
        {
            Assert.False(await checks.AcceptsAsync(_primary, Fresh, Timeout, CancellationToken.None));
        }
        Assert.Equal(1, connects);
        _time.Advance(Fresh);
        Assert.False(await checks.AcceptsAsync(_primary, Fresh, Timeout, CancellationToken.None));
        Assert.Equal(2, connects);
        Assert.Equal(2, checks.Connects);
    }

    [Fact]
    public async Task TheReturnIsSeenOnceTheResultIsNoLongerFresh()
    {
        bool open = false;
        var checks = new PortChecks(_time, (_, _) => Task.FromResult(open));
        Assert.False(await checks.AcceptsAsync(_primary, Fresh, Timeout, CancellationToken.None));
        open = true;
        _time.Advance(Fresh - TimeSpan.FromMilliseconds(1));
        Assert.False(await checks.AcceptsAsync(_primary, Fresh, Timeout, CancellationToken.None));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(await checks.AcceptsAsync(_primary, Fresh, Timeout, CancellationToken.None));
    }

    [Fact]
    public async Task OtherHostsAndPortsAreCheckedApart()
    {
        var asked = new List<HostPort>();
        var checks = new PortChecks(_time, (h, _) => { asked.Add(h); return Task.FromResult(h.Port == 2525); });
        Assert.False(await checks.AcceptsAsync(_primary, Fresh, Timeout, CancellationToken.None));
        Assert.True(await checks.AcceptsAsync(_primary with { Port = 2525 }, Fresh, Timeout, CancellationToken.None));
        Assert.False(await checks.AcceptsAsync(new HostPort("other.example", 25), Fresh, Timeout, CancellationToken.None));
        Assert.Equal(3, asked.Count);
    }

    [Fact]
    public async Task ACheckInFlightIsJoinedAndOneAskerStoppingDoesNotCancelIt()
    {
        var answer = new TaskCompletionSource<bool>();
        int connects = 0;
        var checks = new PortChecks(_time, (_, _) => { connects++; return answer.Task; });
        using var stop = new CancellationTokenSource();
        Task<bool> first = checks.AcceptsAsync(_primary, Fresh, Timeout, stop.Token);
        _time.Advance(TimeSpan.FromSeconds(3)); // Note: in flight, it is joined however long it runs (bounded by its timeout).
        Task<bool> second = checks.AcceptsAsync(_primary, Fresh, Timeout, CancellationToken.None);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        answer.SetResult(true);
        Assert.True(await second);
        Assert.Equal(1, connects);
    }

    [Fact]
    public async Task AFailedCheckIsHandedToItsAskersAndNotReused()
    {
        int connects = 0;
        var checks = new PortChecks(_time, (_, _) => ++connects == 1 ? Task.FromException<bool>(new IOException("bug")) : Task.FromResult(true));
        await Assert.ThrowsAsync<IOException>(() => checks.AcceptsAsync(_primary, Fresh, Timeout, CancellationToken.None));
        Assert.True(await checks.AcceptsAsync(_primary, Fresh, Timeout, CancellationToken.None));
        Assert.Equal(2, connects);
    }
}
