using Microsoft.Extensions.Time.Testing;
using Respaldo.Configuration;
using Respaldo.Primary;
using Respaldo.Smtp;

namespace Respaldo.Tests.Supervision;

/// <summary>What the controller learns from probes and hand-overs: state, the front door's hysteresis, SIZE, changes to report.</summary>
public sealed class PrimaryTrackerTests
{
    private static readonly ControllerSettings Pace = new(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(15),
        TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5), TimeSpan.FromHours(4))
    {
        DownAfterFailures = 2,
        UpAfter = TimeSpan.FromSeconds(120),
    };

    private static readonly HostPort First = new("127.0.0.2", 25);
    private static readonly HostPort Second = new("127.0.0.3", 25);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero));
    private readonly PrimaryTracker _tracker = new(Pace);

    private ProbeResult Probe(bool up, HostPort? host = null, long? size = null) =>
        new(_time.GetUtcNow(), "a", host ?? First, up, up ? SmtpStage.Quit : SmtpStage.Connect, null, up ? "ok" : "connection refused",
            TimeSpan.FromMilliseconds(3), SmtpCapabilities.None with { MaxSize = size }, false);

    [Fact]
    public void TheFirstFailedProbeIsTheOutagesStartAndTheFirstSuccessAfterItItsEnd()
    {
        DateTimeOffset start = _time.GetUtcNow();
        PrimaryDown down = Assert.IsType<PrimaryDown>(Assert.Single(_tracker.Observe([Probe(up: false)])));
        Assert.Equal(start, down.At);
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Contains(_tracker.Observe([Probe(up: false)]), c => c is FrontDoorVerdict { Verdict: PrimaryStatus.Down });
        Assert.Equal(2, _tracker.View.State.ConsecutiveFailures);

        _time.Advance(TimeSpan.FromMinutes(1));
        PrimaryUp up = Assert.Single(_tracker.Observe([Probe(up: true)]).OfType<PrimaryUp>());
        Assert.Equal(start, up.DownSince);
        Assert.Equal(PrimaryStatus.Up, _tracker.View.State.Status);
    }

    [Fact]
    public void TheFrontDoorClosesOnlyAfterThePrimaryAnsweredEveryProbeForUpAfter()
    {
        _tracker.Observe([Probe(up: false)]);
        _tracker.Observe([Probe(up: false)]);
        Assert.Equal(PrimaryStatus.Down, _tracker.View.Availability.Verdict);
        _tracker.Observe([Probe(up: true)]);
        _time.Advance(Pace.UpAfter - TimeSpan.FromSeconds(1));
        Assert.DoesNotContain(_tracker.Observe([Probe(up: true)]), c => c is FrontDoorVerdict);
        Assert.Equal(PrimaryStatus.Down, _tracker.View.Availability.Verdict);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Contains(_tracker.Observe([Probe(up: true)]), c => c is FrontDoorVerdict { Verdict: PrimaryStatus.Up });
    }

    [Fact]
    public void ATenantWithTwoHostsIsUpWhenEitherAnswersAndLearnsTheSizeOfTheOneThatDid()
    {
        IReadOnlyList<PrimaryChange> changes = _tracker.Observe([Probe(up: false, First), Probe(up: true, Second, size: 20_000_000)]);
        Assert.Equal(PrimaryStatus.Up, _tracker.View.State.Status);
        Assert.Equal(PrimaryStatus.Up, _tracker.View.Availability.Verdict);
        Assert.Equal(new AdvertisedSize(true, 20_000_000), _tracker.View.Size);
        Assert.True(_tracker.View.ProbedOnce);
        Assert.Contains(changes, c => c is PrimaryUp);
    }

    [Fact]
    public void AFailedProbeKeepsTheLastAdvertisedSize()
    {
        _tracker.Observe([Probe(up: true, size: 5_000_000)]);
        _tracker.Observe([Probe(up: false)]);
        Assert.Equal(new AdvertisedSize(true, 5_000_000), _tracker.View.Size);
    }

    [Fact]
    public void TheBackOffGrowsWithFailuresUpToTheCeilingWhileThePortCheckStaysFast()
    {
        for (int i = 0; i < 30; i++)
        {
            _tracker.Observe([Probe(up: false)]);
            _tracker.Deferred(_time.GetUtcNow());
        }
        Assert.Equal(_time.GetUtcNow() + Pace.ProbeIntervalMax, _tracker.View.NextProbe);
        Assert.Equal(_time.GetUtcNow() + Pace.ProbeInterval, _tracker.View.NextPortCheck);
    }

    [Fact]
    public void LosingThePrimaryDuringAHandOverReportsTheOutageOnceAndCountsAsAFailedProbe()
    {
        _tracker.Observe([Probe(up: true)]);
        _tracker.TookMail(First, _time.GetUtcNow());
        PrimaryDown down = Assert.Single(_tracker.Lost(First.ToString(), "421 shutting down", _time.GetUtcNow()).OfType<PrimaryDown>());
        Assert.Equal("421 shutting down", down.Reason);
        Assert.Null(_tracker.View.WorkingHost);
        Assert.Equal(1, _tracker.View.Availability.FailureStreak);
        Assert.Empty(_tracker.Lost(First.ToString(), "again", _time.GetUtcNow()).OfType<PrimaryDown>());
    }

    [Fact]
    public void ARestartTrustsOnlyRecentProbesForTheFrontDoorButAlwaysTheSize()
    {
        DateTimeOffset now = _time.GetUtcNow();
        var stale = new PrimaryTracker(Pace);
        stale.Restore([(now - TimeSpan.FromHours(1), false), (now - TimeSpan.FromHours(1.1), false)], new AdvertisedSize(true, 1_000), now);
        Assert.Equal(PrimaryStatus.Unknown, stale.View.Availability.Verdict);
        Assert.Equal(new AdvertisedSize(true, 1_000), stale.View.Size);

        _tracker.Restore([(now - TimeSpan.FromSeconds(10), false), (now - TimeSpan.FromSeconds(20), false)], AdvertisedSize.NeverProbed, now);
        Assert.Equal(PrimaryStatus.Down, _tracker.View.Availability.Verdict);
    }

    [Fact]
    public async Task ProbesFromTheLoopAndFromDBusAtOnceAreAllCounted()
    {
        var tracker = new PrimaryTracker(Pace);
        ProbeResult failure = Probe(up: false);
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < 500; i++)
            {
                tracker.Observe([failure]);
            }
        })));
        Assert.Equal(4_000, tracker.View.State.ConsecutiveFailures);
        Assert.Equal(4_000, tracker.View.Availability.FailureStreak);
    }

    [Fact]
    public void AReloadThatShortensTheProbeIntervalBringsTheNextProbeForwardAndALongerOnePutsNothingOff()
    {
        var tracker = new PrimaryTracker(Pace with { ProbeInterval = TimeSpan.FromSeconds(30), ProbeIntervalMax = TimeSpan.FromMinutes(10) });
        tracker.Observe([Probe(up: false)]);
        tracker.Deferred(_time.GetUtcNow());
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromSeconds(30), tracker.View.NextProbe);

        _time.Advance(TimeSpan.FromSeconds(2));
        tracker.Use(Pace with { ProbeInterval = TimeSpan.FromSeconds(1), ProbeIntervalMax = TimeSpan.FromSeconds(5) }, _time.GetUtcNow());
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromSeconds(1), tracker.View.NextProbe);
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromSeconds(1), tracker.View.NextPortCheck);
        Assert.Equal(1, tracker.View.State.ConsecutiveFailures);
        Assert.Equal(TimeSpan.FromSeconds(1), tracker.Pace.ProbeInterval);

        DateTimeOffset planned = tracker.View.NextProbe;
        tracker.Use(Pace with { ProbeInterval = TimeSpan.FromMinutes(5), ProbeIntervalMax = TimeSpan.FromMinutes(30) }, _time.GetUtcNow());
        Assert.Equal(planned, tracker.View.NextProbe);
    }
}
