using Microsoft.Extensions.Time.Testing;
using Respaldo.Configuration;
using Respaldo.Primary;
using Respaldo.Smtp;
using Respaldo.Supervision;

namespace Respaldo.Tests.Supervision;

/// <summary>
/// The tenant loop's decision alone: a snapshot on a fake clock in, one step out. The tracker
/// is driven by probe results exactly as the loop drives it.
/// </summary>
public sealed class TenantStepTests
{
    private static readonly ControllerSettings Pace = new(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(15),
        TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5), TimeSpan.FromHours(4));

    private static readonly HostPort Host = new("127.0.0.2", 25);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero));
    private readonly PrimaryTracker _primary = new(Pace);

    private ProbeResult Probe(bool up, SmtpStage stage = SmtpStage.Greeting) =>
        new(_time.GetUtcNow(), "a", Host, up, up ? SmtpStage.Quit : stage, null, up ? "ok" : "refused",
            TimeSpan.FromMilliseconds(3), SmtpCapabilities.None, false);

    private TenantStep Next(int waiting, int due, bool handOverNow = false, bool probeRequested = false,
        bool acceptOnlyWhileDown = false, DateTimeOffset? nextRetry = null)
    {
        PrimaryView view = _primary.View;
        var snapshot = new TenantSnapshot(_time.GetUtcNow(), waiting, due, nextRetry, handOverNow, probeRequested,
            PrimaryTracker.NextIdleProbe(view, acceptOnlyWhileDown, Pace), view);
        return TenantSteps.Next(snapshot, Pace.ProbeInterval);
    }

    [Fact]
    public void AtStartWithNothingWaitingItProbesOnceToLearnTheSizeThenRests()
    {
        Assert.Equal(StepKind.Probe, Next(0, 0).Kind);
        _primary.Observe([Probe(up: true)]);
        _time.Advance(TimeSpan.FromHours(3));
        Assert.Equal(new TenantStep(StepKind.Rest), Next(0, 0));
    }

    [Fact]
    public void AnEmptyTenantWhoseSizeIsKnownRestsAndNeverProbesUnlessAsked()
    {
        _primary.Restore([], new AdvertisedSize(true, 10_000_000), _time.GetUtcNow());
        Assert.Equal(new TenantStep(StepKind.Rest), Next(0, 0));
        Assert.Equal(StepKind.Probe, Next(0, 0, probeRequested: true).Kind);
    }

    [Fact]
    public void ATenantThatTakesMailOnlyWhileItsPrimaryIsDownProbesAtTheIdleIntervalWhileEmpty()
    {
        _primary.Observe([Probe(up: true)]);
        TenantStep rest = Next(0, 0, acceptOnlyWhileDown: true);
        Assert.Equal(StepKind.Rest, rest.Kind);
        Assert.Equal(_time.GetUtcNow() + Pace.IdleProbeInterval, rest.Until);
        _time.Advance(Pace.IdleProbeInterval);
        Assert.Equal(StepKind.Probe, Next(0, 0, acceptOnlyWhileDown: true).Kind);
    }

    [Fact]
    public void MailThatIsNotDueWaitsForItsRetryTime()
    {
        DateTimeOffset retry = _time.GetUtcNow() + TimeSpan.FromMinutes(2);
        Assert.Equal(new TenantStep(StepKind.WaitRetry, retry), Next(3, 0, nextRetry: retry));
    }

    [Fact]
    public void DueMailWithAnUnknownPrimaryProbesThenHandsOver() =>
        Assert.Equal(new TenantStep(StepKind.ProbeThenHandOver), Next(3, 3));

    [Fact]
    public void WhileThePrimaryIsDownNewMailDoesNotHurryTheBackedOffProbe()
    {
        for (int i = 0; i < 4; i++)
        {
            _primary.Observe([Probe(up: false)]);
            _primary.Deferred(_time.GetUtcNow());
        }
        DateTimeOffset next = _primary.View.NextProbe;
        Assert.Equal(_time.GetUtcNow() + ProbeSchedule.Next(4, Pace.ProbeInterval, Pace.ProbeIntervalMax), next);
        Assert.True(next - _time.GetUtcNow() > Pace.ProbeInterval);
        Assert.Equal(new TenantStep(StepKind.WaitProbe, next), Next(10, 10));
        _time.Advance(next - _time.GetUtcNow());
        Assert.Equal(new TenantStep(StepKind.ProbeThenHandOver), Next(10, 10));
    }

    [Fact]
    public void WhileThePrimaryRefusesConnectionsItsPortIsCheckedEveryFastIntervalAndAnOpenPortBringsTheProbe()
    {
        for (int i = 0; i < 4; i++)
        {
            _primary.Observe([Probe(up: false, SmtpStage.Connect)]);
            _primary.Deferred(_time.GetUtcNow());
        }
        DateTimeOffset probe = _primary.View.NextProbe;
        Assert.Equal(new TenantStep(StepKind.WaitProbe, _time.GetUtcNow() + Pace.ProbeInterval), Next(1, 1));
        _time.Advance(Pace.ProbeInterval);
        Assert.Equal(StepKind.CheckPort, Next(1, 1).Kind);
        _primary.PortChecked(_time.GetUtcNow(), accepted: false);
        Assert.Equal(probe, _primary.View.NextProbe);
        Assert.Equal(StepKind.WaitProbe, Next(1, 1).Kind);
        _time.Advance(Pace.ProbeInterval);
        Assert.Equal(StepKind.CheckPort, Next(1, 1).Kind);
        _primary.PortChecked(_time.GetUtcNow(), accepted: true);
        Assert.True(_time.GetUtcNow() < probe);
        Assert.Equal(new TenantStep(StepKind.ProbeThenHandOver), Next(1, 1));
    }

    [Fact]
    public void APrimaryThatAnswersButRefusesMailIsNotPortChecked()
    {
        _primary.Observe([Probe(up: false, SmtpStage.Greeting)]);
        _primary.Deferred(_time.GetUtcNow());
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(new TenantStep(StepKind.WaitProbe, _primary.View.NextProbe), Next(1, 1));
    }

    [Fact]
    public void HandOverNowSkipsTheBackOffAndTheRecentHostAndProbesAtOnce()
    {
        _primary.Observe([Probe(up: false)]);
        _primary.Deferred(_time.GetUtcNow());
        Assert.Equal(StepKind.WaitProbe, Next(2, 2).Kind);
        Assert.Equal(new TenantStep(StepKind.ProbeThenHandOver), Next(2, 2, handOverNow: true));

        _primary.Observe([Probe(up: true)]);
        _primary.TookMail(Host, _time.GetUtcNow());
        Assert.Equal(new TenantStep(StepKind.ProbeThenHandOver), Next(2, 2, handOverNow: true));
    }

    [Fact]
    public void AHostThatTookMailMomentsAgoIsUsedWithoutAProbeUntilTheFastIntervalEnds()
    {
        _primary.Observe([Probe(up: true)]);
        _primary.TookMail(Host, _time.GetUtcNow());
        _time.Advance(Pace.ProbeInterval - TimeSpan.FromMilliseconds(1));
        Assert.Equal(new TenantStep(StepKind.HandOver, Host: Host), Next(1, 1));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(new TenantStep(StepKind.ProbeThenHandOver), Next(1, 1));
    }

    [Fact]
    public void AHandOverThatLostThePrimaryForgetsTheHostAndWaitsTheFastInterval()
    {
        _primary.Observe([Probe(up: true)]);
        _primary.TookMail(Host, _time.GetUtcNow());
        _primary.Lost(Host.ToString(), "421", _time.GetUtcNow());
        Assert.Equal(new TenantStep(StepKind.WaitProbe, _time.GetUtcNow() + Pace.ProbeInterval), Next(5, 5));
        _time.Advance(Pace.ProbeInterval);
        Assert.Equal(new TenantStep(StepKind.ProbeThenHandOver), Next(5, 5));
    }

    [Fact]
    public void AWaitLastsUntilItsStepsTimeAndNoLongerThanTheRestInterval()
    {
        DateTimeOffset now = _time.GetUtcNow();
        TimeSpan longest = TimeSpan.FromSeconds(60);
        // Nothing due (an empty tenant whose SIZE is known): the longest rest, woken by an arrival.
        Assert.Equal(longest, TenantSteps.WaitFor(now, null, longest));
        // The next probe, retry or idle probe before that: until then exactly.
        Assert.Equal(TimeSpan.FromSeconds(7), TenantSteps.WaitFor(now, now + TimeSpan.FromSeconds(7), longest));
        // Far off (a retry in an hour): capped, the loop goes around and beats.
        Assert.Equal(longest, TenantSteps.WaitFor(now, now + TimeSpan.FromHours(1), longest));
        // Already past (the clock moved on while the turn looked): no wait.
        Assert.Equal(TimeSpan.Zero, TenantSteps.WaitFor(now, now - TimeSpan.FromSeconds(3), longest));
    }
}
