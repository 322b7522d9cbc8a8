using System.Text;
using Respaldo.Configuration;
using Respaldo.Drills;
using Respaldo.Events;
using Respaldo.Mailboxes;
using Respaldo.Primary;
using Respaldo.Tests.Smtp;

namespace Respaldo.Tests.Drills;

/// <summary>
/// One fire drill's steps against a scripted intake (a real SMTP conversation on loopback) and
/// the controller events a real delivery would raise: each outcome and its timings.
/// </summary>
#pragma warning disable CA1001 // xunit disposes them through IAsyncLifetime.DisposeAsync.
public sealed class FireDrillTests : IAsyncLifetime
#pragma warning restore CA1001
{
    private readonly string _dir = Directory.CreateTempSubdirectory("respaldo-drill-").FullName;
    private readonly ScriptedPrimary _intake = new();
    private readonly ControllerEvents _events = new();
    private readonly DrillTickets _tickets = new();
    private PrimaryStatus _primary = PrimaryStatus.Up;

    private const string Address = "info@suempresa.test";

    private DrillContext Context(TimeSpan timeout)
    {
        string json = $$"""
            {
              "hostname": "mail-backup.suempresa.test",
              "stateDirectory": "{{_dir}}",
              "messageSizeLimit": "1MiB",
              "storage": { "allocation": "1000000", "minimumFree": "1000" },
              "tenants": [ { "id": "suempresa", "domains": ["suempresa.test"], "primary": { "hosts": ["127.0.0.1:1"] },
                             "mailboxes": [ { "address": "{{Address}}" } ], "drill": { "address": "{{Address}}" } } ]
            }
            """;
        (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) = ConfigurationLoader.Parse(Encoding.UTF8.GetBytes(json), "/test.json");
        Assert.True(settings is not null, string.Join("; ", errors));
        settings = settings with { Listen = settings.Listen with { Smtp = [new HostPort("127.0.0.1", _intake.Port)] } };
        Tenant tenant = settings.Tenants[0] with { Drill = new DrillSettings(Address, TimeSpan.Zero, timeout) };
        return new DrillContext(settings, tenant, _tickets, _events, () => _primary, TimeProvider.System);
    }

    /// <summary>What Dovecot and the watcher do with the accepted message: a maildir file, then MessageArrived; then what the hand-over says.</summary>
    private void StoreAndSettle(byte[] data, string? outcome, int code = 250, string reply = "2.0.0 Ok: queued as X")
    {
        string path = Path.Combine(_dir, "1765000000.M1P1.backup");
        File.WriteAllBytes(path, data);
        var message = new WaitingMessage("suempresa", Address, _dir, "1765000000.M1P1.backup", path, data.Length, DateTimeOffset.UtcNow);
        _events.Raise(new MessageArrived("suempresa", DateTimeOffset.UtcNow, message));
        if (outcome is not null)
        {
            _events.Raise(new MessageSettled("suempresa", DateTimeOffset.UtcNow, Address, message.BaseName, outcome, code, reply));
        }
    }

    [Fact]
    public async Task PassesWithItsFourTimingsWhenThePrimaryTakesIt()
    {
        _intake.OnMessage = data => { StoreAndSettle(data, "delivered"); return "250 2.0.0 Ok: queued as 1"; };
        DrillResult r = await new FireDrill(Context(TimeSpan.FromSeconds(10))).RunAsync(CancellationToken.None);
        Assert.True(r.Passed, r.Reason);
        Assert.Equal("handed over: 250 2.0.0 Ok: queued as X", r.Reason);
        Assert.True(r.Accepted is not null && r.Stored is not null && r.Seen is not null && r.HandedOver is not null, r.ToString());
        Assert.Equal("1765000000.M1P1.backup", r.Message);
        string mail = Assert.Single(_intake.Commands, c => c.StartsWith("MAIL FROM:", StringComparison.Ordinal));
        Assert.StartsWith($"MAIL FROM:<respaldo-drill+{r.Id}.", mail, StringComparison.Ordinal);
        string stored = Encoding.UTF8.GetString(Assert.Single(_intake.Messages));
        Assert.Contains($"X-Respaldo-Drill: {r.Id}", stored, StringComparison.Ordinal);
        Assert.Contains("Subject: [Respaldo drill] ", stored, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailsAtTheIntakeWithTheBackupsOwnAnswer()
    {
        _intake.OnCommand = line => line.StartsWith("RCPT", StringComparison.Ordinal) ? "450 4.7.1 use the primary MX" : null;
        DrillResult r = await new FireDrill(Context(TimeSpan.FromSeconds(10))).RunAsync(CancellationToken.None);
        Assert.Equal((DrillOutcome.Failed, "intake"), (r.Outcome, r.Step));
        Assert.Contains("refused it: 450 4.7.1 use the primary MX", r.Reason, StringComparison.Ordinal);
        Assert.Null(r.Accepted);
    }

    [Fact]
    public async Task FailsWithThePrimarysReplyWhenItDefers()
    {
        _intake.OnMessage = data => { StoreAndSettle(data, "deferred", 450, "4.7.1 <info@suempresa.test>: Recipient address rejected: greylisted"); return "250 2.0.0 Ok"; };
        DrillResult r = await new FireDrill(Context(TimeSpan.FromSeconds(10))).RunAsync(CancellationToken.None);
        Assert.Equal((DrillOutcome.Failed, "primary"), (r.Outcome, r.Step));
        Assert.Equal("the primary deferred it: 450 4.7.1 <info@suempresa.test>: Recipient address rejected: greylisted", r.Reason);
        Assert.Null(r.HandedOver);
    }

    [Fact]
    public async Task ReportsPrimaryDownOnceStoredAndSeen()
    {
        _primary = PrimaryStatus.Down;
        _intake.OnMessage = data => { StoreAndSettle(data, null); return "250 2.0.0 Ok"; };
        DrillResult r = await new FireDrill(Context(TimeSpan.FromSeconds(10))).RunAsync(CancellationToken.None);
        Assert.Equal((DrillOutcome.Failed, "primary-down"), (r.Outcome, r.Step));
        Assert.True(r.Seen is not null && r.Stored is not null && r.HandedOver is null, r.ToString());
    }

    [Fact]
    public async Task FailsWhenTheWatcherNeverSeesItsFile()
    {
        _intake.OnMessage = _ => "250 2.0.0 Ok";
        DrillResult r = await new FireDrill(Context(TimeSpan.FromSeconds(1))).RunAsync(CancellationToken.None);
        Assert.Equal((DrillOutcome.Failed, "store"), (r.Outcome, r.Step));
        Assert.NotNull(r.Accepted);
        Assert.Null(r.Seen);
    }

    [Fact]
    public async Task IgnoresOtherFilesOfTheDrillMailbox()
    {
        _intake.OnMessage = data =>
        {
            StoreAndSettle(Encoding.ASCII.GetBytes("Subject: hello\r\n\r\nnot a drill\r\n"), "delivered");
            return "250 2.0.0 Ok";
        };
        DrillResult r = await new FireDrill(Context(TimeSpan.FromSeconds(1))).RunAsync(CancellationToken.None);
        Assert.Equal("store", r.Step);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _intake.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}
