using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Respaldo.Configuration;
using Respaldo.Policy;
using Respaldo.Primary;
using Respaldo.Tests.Smtp;

namespace Respaldo.Tests.Policy;

/// <summary>
/// The front door's decisions on scripted policy requests, with a real journal (SQLite in a
/// temporary directory) and a scripted primary answering the callouts.
/// </summary>
#pragma warning disable CA1001 // xunit disposes them through IAsyncLifetime.DisposeAsync.
public sealed class FrontDoorPolicyTests : IAsyncLifetime
#pragma warning restore CA1001
{
    private readonly string _dir = Directory.CreateTempSubdirectory("respaldo-policy-").FullName;
    private readonly ScriptedPrimary _primary = new();
    private readonly List<string> _validAtPrimary = ["valid@suempresa.test"];
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private volatile bool _catchAllPrimary;
    private global::Respaldo.Journaling.Journal _journal = null!;
    private FakeContext _context = null!;
    private FrontDoorPolicy _policy = null!;
    private readonly Respaldo.Drills.DrillTickets _drills = new();

    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private static readonly PrimaryAvailability Up = PrimaryAvailability.Unknown.After(true, Now, 2, TimeSpan.Zero);
    private static readonly PrimaryAvailability Down = PrimaryAvailability.Unknown.After(false, Now, 2, TimeSpan.Zero).After(false, Now, 2, TimeSpan.Zero);

    private string RecipientsFile => Path.Combine(_dir, "recipients.txt");

    public Task InitializeAsync()
    {
        _primary.OnCommand = line => line.StartsWith("RCPT", StringComparison.Ordinal)
            ? _catchAllPrimary || _validAtPrimary.Any(a => line.Contains($"<{a}>", StringComparison.Ordinal)) ? null
            : line.Contains("<later@", StringComparison.Ordinal) ? "451 4.3.0 try later" : "550 5.1.1 User unknown"
            : null;
        string json = $$"""
            {
              "hostname": "mail-backup.suempresa.test",
              "stateDirectory": "{{_dir}}",
              "messageSizeLimit": "1MiB",
              "storage": { "allocation": "1000000", "minimumFree": "1000" },
              "controller": { "calloutsPerClientPerMinute": 3, "calloutsPerClientPerHour": 5 },
              "tenants": [
                {
                  "id": "suempresa",
                  "domains": ["suempresa.test"],
                  "primary": { "hosts": ["127.0.0.1:{{_primary.Port}}"], "tls": "none" },
                  "mailboxes": [ { "address": "info@suempresa.test" } ],
                  "recipients": { "learn": true, "file": "{{RecipientsFile}}" }
                },
                {
                  "id": "otra",
                  "domains": ["otra.test"],
                  "primary": { "hosts": ["127.0.0.1:{{_primary.Port}}"], "tls": "none" },
                  "mailboxes": [ { "address": "ana@otra.test" }, { "address": "llena@otra.test", "quota": "5000" } ],
                  "acceptOnlyWhilePrimaryDown": false,
                  "storageShare": "10000"
                }
              ]
            }
            """;
        (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) = ConfigurationLoader.Parse(Encoding.UTF8.GetBytes(json), "/test.json");
        Assert.True(settings is not null, string.Join("; ", errors));
        _journal = global::Respaldo.Journaling.Journal.Open(settings.JournalPath, NullLogger.Instance);
        _context = new FakeContext(settings);
        _policy = new FrontDoorPolicy(_context, _journal, _clock, NullLogger.Instance, _drills);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _policy.Dispose();
        await _journal.DisposeAsync();
        await _primary.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private Task<PolicyDecision> AskAsync(string recipient, string state = "RCPT", long size = 0, string instance = "A1", string client = "192.0.2.7", string sender = "a@example.org") =>
        _policy.DecideAsync(new PolicyRequest(new Dictionary<string, string>
        {
            ["request"] = "smtpd_access_policy",
            ["protocol_state"] = state,
            ["recipient"] = recipient,
            ["sender"] = sender,
            ["client_address"] = client,
            ["instance"] = instance,
            ["size"] = size.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }), CancellationToken.None);

    /// <summary>Callouts about recipients (the catch-all probes apart).</summary>
    private List<string> RcptsAtPrimary() { lock (_primary.Commands) { return _primary.Commands.Where(c => c.StartsWith("RCPT", StringComparison.Ordinal) && !c.Contains("respaldo-probe-", StringComparison.Ordinal)).ToList(); } }

    private List<string> CatchAllProbesAtPrimary() { lock (_primary.Commands) { return _primary.Commands.Where(c => c.StartsWith("RCPT TO:<respaldo-probe-", StringComparison.Ordinal)).ToList(); } }

    /// <summary>The first tenant, taking mail at any time (callouts answer the RCPT itself).</summary>
    private void AcceptAtAnyTime() =>
        _context.Settings = _context.Settings with { Tenants = [_context.Settings.Tenants[0] with { AcceptOnlyWhilePrimaryDown = false }, _context.Settings.Tenants[1]] };

    [Fact]
    public async Task LeavesForeignDomainsToPostfixAndRefusesBadSyntax()
    {
        Assert.Equal("DUNNO", (await AskAsync("victim@example.net")).Action);
        foreach (string trick in new[] { "victim%example.net@suempresa.test", "example.net!victim@suempresa.test", "\"victim@example.net\"@suempresa.test", "../etc@suempresa.test" })
        {
            PolicyDecision d = await AskAsync(trick);
            Assert.Equal(550, d.Code);
            Assert.StartsWith("5.1.3", d.Text, StringComparison.Ordinal);
        }
        Assert.Empty(RcptsAtPrimary());
    }

    [Fact]
    public async Task AListedMailboxGets450UseThePrimaryWhileItIsUpAndAsksForAProbe()
    {
        _context.Availability = Up;
        PolicyDecision d = await AskAsync("info@suempresa.test");
        Assert.Equal(450, d.Code);
        Assert.StartsWith("4.7.1", d.Text, StringComparison.Ordinal);
        Assert.Equal(1, _context.ProbeRequests);
        _context.Availability = PrimaryAvailability.Unknown;
        Assert.Equal(451, (await AskAsync("info@suempresa.test")).Code);
        _context.Availability = Down;
        Assert.Equal("DUNNO", (await AskAsync("info@suempresa.test")).Action);
    }

    [Fact]
    public async Task AFireDrillsTokenPassesTheFirstRuleOnceWhileThePrimaryIsUp()
    {
        _context.Availability = Up;
        Respaldo.Drills.DrillTicket ticket = _drills.Issue("suempresa", "info@suempresa.test", "mail-backup.suempresa.test", _clock.GetUtcNow());
        Assert.Equal("DUNNO", (await AskAsync("info@suempresa.test", sender: ticket.Sender, client: "127.0.0.1")).Action);
        // Replayed: the ordinary answer.
        PolicyDecision replay = await AskAsync("info@suempresa.test", sender: ticket.Sender, client: "127.0.0.1");
        Assert.Equal(450, replay.Code);
        Assert.StartsWith("4.7.1", replay.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AForgedMisdirectedOrExpiredDrillTokenGetsThe450()
    {
        _context.Availability = Up;
        DateTimeOffset now = _clock.GetUtcNow();
        Respaldo.Drills.DrillTicket ticket = _drills.Issue("suempresa", "info@suempresa.test", "mail-backup.suempresa.test", now);
        string forged = ticket.Sender.Replace(ticket.Id, "0123456789abcdef", StringComparison.Ordinal);
        Assert.Equal(450, (await AskAsync("info@suempresa.test", sender: forged)).Code);
        Assert.Equal(450, (await AskAsync("ventas@suempresa.test", sender: ticket.Sender)).Code);
        _clock.Advance(Respaldo.Drills.DrillTickets.Lifetime);
        Assert.Equal(450, (await AskAsync("info@suempresa.test", sender: ticket.Sender)).Code);
    }

    [Fact]
    public async Task ADrillStillMeetsTheOtherRules()
    {
        _context.Availability = Up;
        Respaldo.Drills.DrillTicket ticket = _drills.Issue("suempresa", "info@suempresa.test", "mail-backup.suempresa.test", _clock.GetUtcNow());
        Assert.Equal(552, (await AskAsync("info@suempresa.test", size: 2 * 1024 * 1024, sender: ticket.Sender)).Code);
    }

    [Fact]
    public async Task AStaticTenantRefusesUnlistedAddressesWith550AndAcceptsAtAnyTimeWhenTheRuleIsOff()
    {
        _context.Availability = Up;
        Assert.Equal("DUNNO", (await AskAsync("ana@otra.test")).Action);
        Assert.Equal(550, (await AskAsync("nadie@otra.test")).Code);
        Assert.Empty(RcptsAtPrimary());
    }

    [Fact]
    public async Task LearnsWhileUpAndAcceptsOnlyLearnedAddressesDuringTheOutage()
    {
        _context.Availability = Up;
        // The same answer for a valid and an unknown address: the callouts run behind it.
        PolicyDecision valid = await AskAsync("valid@suempresa.test");
        PolicyDecision refused = await AskAsync("nadie@suempresa.test");
        Assert.Equal(450, valid.Code);
        Assert.Equal(valid.Action, refused.Action);
        await _policy.LearningSettledAsync();
        Assert.Equal(2, RcptsAtPrimary().Count);
        Assert.Single(CatchAllProbesAtPrimary());
        // Cached: asking again does not call the primary.
        Assert.Equal(450, (await AskAsync("nadie@suempresa.test")).Code);
        await _policy.LearningSettledAsync();
        Assert.Equal(2, RcptsAtPrimary().Count);

        _context.Availability = Down;
        Assert.Equal("DUNNO", (await AskAsync("valid@suempresa.test")).Action);
        Assert.Contains("valid@suempresa.test:::::::", File.ReadAllText(_context.Settings.DynamicUsersPath), StringComparison.Ordinal);
        foreach (string other in new[] { "nadie@suempresa.test", "nuevo@suempresa.test" })
        {
            PolicyDecision d = await AskAsync(other);
            Assert.Equal(450, d.Code);
            Assert.StartsWith("4.1.1", d.Text, StringComparison.Ordinal);
        }
        Assert.Equal(2, RcptsAtPrimary().Count);

        // A restart (a new policy over the same journal) still knows what was learned.
        using var again = new FrontDoorPolicy(_context, _journal, _clock, NullLogger.Instance);
        await _journal.FlushAsync();
        PolicyDecision afterRestart = await again.DecideAsync(new PolicyRequest(new Dictionary<string, string>
        {
            ["protocol_state"] = "RCPT",
            ["recipient"] = "valid@suempresa.test",
        }), CancellationToken.None);
        Assert.Equal("DUNNO", afterRestart.Action);
    }

    [Fact]
    public async Task ADictionaryAttackWhileThePrimaryIsUpGetsOneAnswerForEveryGuessAndNoMoreCalloutsThanTheBudget()
    {
        // Note: the callout used to run before the accept-only-while-down rule: a guess the
        // primary did not know got 550 and a real address 450, a free verifier for spammers,
        // and every guess cost the primary a connection.
        _context.Availability = Up;
        var answers = new HashSet<string>(StringComparer.Ordinal);
        answers.Add((await AskAsync("valid@suempresa.test")).Action);
        for (int i = 0; i < 40; i++)
        {
            answers.Add((await AskAsync($"guess{i}@suempresa.test")).Action);
        }
        await _policy.LearningSettledAsync();
        string only = Assert.Single(answers);
        Assert.StartsWith("450 4.7.1", only, StringComparison.Ordinal);
        Assert.Equal(3, RcptsAtPrimary().Count);
    }

    [Fact]
    public async Task AClientOverItsCalloutBudgetGets450AndThePrimaryIsNotAsked()
    {
        _context.Availability = Up;
        AcceptAtAnyTime();
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(550, (await AskAsync($"guess{i}@suempresa.test")).Code);
        }
        PolicyDecision over = await AskAsync("guess3@suempresa.test");
        Assert.Equal(450, over.Code);
        Assert.StartsWith("4.7.1 Too many", over.Text, StringComparison.Ordinal);
        Assert.Equal(3, RcptsAtPrimary().Count);
        // Another client has its own budget; an IPv6 client counts per /64.
        Assert.Equal(550, (await AskAsync("guess4@suempresa.test", client: "2001:db8:1:2::7")).Code);
        Assert.Equal(550, (await AskAsync("guess5@suempresa.test", client: "2001:db8:1:2::8")).Code);
        Assert.Equal(550, (await AskAsync("guess6@suempresa.test", client: "2001:db8:1:2::9")).Code);
        Assert.Equal(450, (await AskAsync("guess7@suempresa.test", client: "2001:db8:1:2:ffff::1")).Code);
        Assert.Equal(6, RcptsAtPrimary().Count);
        // A minute later, the first client may ask again, up to its hourly budget (5).
        _clock.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(550, (await AskAsync("guess8@suempresa.test")).Code);
        Assert.Equal(550, (await AskAsync("guess9@suempresa.test")).Code);
        _clock.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(450, (await AskAsync("guess10@suempresa.test")).Code);
        Assert.Equal(8, RcptsAtPrimary().Count);
        _clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(550, (await AskAsync("guess11@suempresa.test")).Code);
        Assert.Equal(9, RcptsAtPrimary().Count);
        // A known address costs no callout, whatever the budget.
        Assert.Equal(550, (await AskAsync("guess0@suempresa.test", client: "2001:db8:1:2::7")).Code);
        Assert.Equal(9, RcptsAtPrimary().Count);
    }

    [Fact]
    public async Task LearnedVerdictsExpireInMemoryAndInTheJournal()
    {
        _context.Availability = Up;
        AcceptAtAnyTime();
        Assert.Equal("DUNNO", (await AskAsync("valid@suempresa.test")).Action);
        Assert.Equal(550, (await AskAsync("nadie@suempresa.test")).Code);
        Assert.Equal(2, RcptsAtPrimary().Count);
        // A refused address is asked again after negativeCacheHours (4); an accepted one is not.
        _clock.Advance(TimeSpan.FromHours(4) + TimeSpan.FromMinutes(1));
        Assert.Equal(550, (await AskAsync("nadie@suempresa.test")).Code);
        Assert.Equal("DUNNO", (await AskAsync("valid@suempresa.test")).Action);
        Assert.Equal(3, RcptsAtPrimary().Count);
        // After positiveCacheDays (30) both are gone from the journal, not only ignored.
        _clock.Advance(TimeSpan.FromDays(30));
        Assert.Equal(550, (await AskAsync("otro@suempresa.test")).Code);
        await _journal.FlushAsync();
        Assert.Equal(["otro@suempresa.test"], _journal.LoadRecipients("suempresa").Select(r => r.Address));
        Assert.Equal("DUNNO", (await AskAsync("valid@suempresa.test")).Action);
        Assert.Equal(5, RcptsAtPrimary().Count);
    }

    [Fact]
    public async Task ACatchAllPrimaryIsDetectedAndNothingIsLearnedFromIt()
    {
        _context.Availability = Up;
        AcceptAtAnyTime();
        Assert.Equal("DUNNO", (await AskAsync("valid@suempresa.test")).Action);
        Assert.False(Assert.Single(_journal.LoadCatchAll("suempresa")).CatchAll);

        // The admin turns the primary into a catch-all: at the next probe (after 6 h) every
        // random guess would have become a Dovecot user.
        _catchAllPrimary = true;
        _clock.Advance(CatchAllDetector.RecheckAfter + TimeSpan.FromMinutes(1));
        PolicyDecision guess = await AskAsync("x7f3q@suempresa.test");
        Assert.Equal(450, guess.Code);
        Assert.StartsWith("4.1.1", guess.Text, StringComparison.Ordinal);
        Assert.Equal(2, CatchAllProbesAtPrimary().Count);
        Assert.Single(RcptsAtPrimary());
        await _journal.FlushAsync();
        global::Respaldo.Journaling.CatchAllRecord found = Assert.Single(_journal.LoadCatchAll("suempresa"));
        Assert.True(found.CatchAll);
        Assert.Equal("suempresa.test", found.Domain);
        Assert.DoesNotContain(_journal.LoadRecipients("suempresa"), r => r.Address.StartsWith("x7f3q", StringComparison.Ordinal));
        Assert.DoesNotContain("x7f3q", File.ReadAllText(_context.Settings.DynamicUsersPath), StringComparison.Ordinal);
        // Without a second probe or callout for the next guesses (the verdict stands 6 h).
        Assert.Equal(450, (await AskAsync("y8@suempresa.test")).Code);
        Assert.Equal(2, CatchAllProbesAtPrimary().Count);
        Assert.Single(RcptsAtPrimary());

        // Only the listed mailboxes and the file count, also for an address learned before.
        await File.WriteAllTextAsync(RecipientsFile, "lista@suempresa.test\n");
        _clock.Advance(TimeSpan.FromSeconds(1.1));
        Assert.Equal("DUNNO", (await AskAsync("info@suempresa.test", instance: "C1")).Action);
        Assert.Equal("DUNNO", (await AskAsync("lista@suempresa.test", instance: "C2")).Action);
        Assert.Equal(450, (await AskAsync("valid@suempresa.test", instance: "C3")).Code);
        _context.Availability = Down;
        Assert.Equal(450, (await AskAsync("valid@suempresa.test", instance: "C4")).Code);
        Assert.Equal("DUNNO", (await AskAsync("lista@suempresa.test", instance: "C5")).Action);
    }

    [Fact]
    public async Task APrimaryWithoutAVerdictCachesNothingAndDefers()
    {
        _context.Availability = Up;
        AcceptAtAnyTime();
        PolicyDecision d = await AskAsync("later@suempresa.test");
        Assert.Equal(450, d.Code);
        Assert.StartsWith("4.1.1", d.Text, StringComparison.Ordinal);
        Assert.Single(RcptsAtPrimary());
        // Nothing cached: the next RCPT asks the primary again.
        Assert.Equal(450, (await AskAsync("later@suempresa.test")).Code);
        Assert.Equal(2, RcptsAtPrimary().Count);
    }

    [Fact]
    public async Task AcceptsAddressesFromTheAdminsFileAndRereadsItWhenItChanges()
    {
        _context.Availability = Down;
        Assert.Equal(450, (await AskAsync("lista@suempresa.test")).Code);
        await File.WriteAllTextAsync(RecipientsFile, "# synced\nlista@suempresa.test\nforeign@example.net\nnot an address\n");
        _clock.Advance(TimeSpan.FromSeconds(1.1));
        Assert.Equal("DUNNO", (await AskAsync("lista@suempresa.test")).Action);
        await File.WriteAllTextAsync(RecipientsFile, "otra@suempresa.test\n");
        _clock.Advance(TimeSpan.FromSeconds(1.1));
        Assert.Equal(450, (await AskAsync("lista@suempresa.test")).Code);
        Assert.Equal("DUNNO", (await AskAsync("otra@suempresa.test")).Action);
    }

    [Fact]
    public async Task NeverTakesMoreThanThePrimaryAdvertisedAtRcptOrAtTheEndOfData()
    {
        _context.Availability = Down;
        _context.Size = new AdvertisedSize(true, 5000);
        Assert.Equal(552, (await AskAsync("info@suempresa.test", size: 6000)).Code);
        Assert.Equal("DUNNO", (await AskAsync("info@suempresa.test", size: 0, instance: "T1")).Action);
        Assert.Equal(552, (await AskAsync("", state: "END-OF-MESSAGE", size: 6000, instance: "T1")).Code);
        Assert.Equal("DUNNO", (await AskAsync("info@suempresa.test", size: 0, instance: "T2")).Action);
        Assert.Equal("DUNNO", (await AskAsync("", state: "END-OF-MESSAGE", size: 4000, instance: "T2")).Action);
        // No SIZE at the last probe: the configured limit (1 MiB) only.
        _context.Size = new AdvertisedSize(true, null);
        Assert.Equal("DUNNO", (await AskAsync("info@suempresa.test", size: 6000)).Action);
        Assert.Equal(552, (await AskAsync("info@suempresa.test", size: 2_000_000)).Code);
    }

    [Fact]
    public async Task DefersWith452OverTheAllocationTheShareTheFloorOrAQuota()
    {
        _context.Availability = Down;
        _context.Use = new StorageUse(999_000, 0, 1L << 40, 0);
        Assert.Equal("DUNNO", (await AskAsync("ana@otra.test", size: 500)).Action);
        Assert.Equal(452, (await AskAsync("ana@otra.test", size: 2000)).Code);
        _context.Use = new StorageUse(1_000_000, 0, 1L << 40, 0);
        Assert.Equal(452, (await AskAsync("ana@otra.test")).Code);

        _context.Use = new StorageUse(9_000, 9_000, 1L << 40, 0);
        Assert.Equal(452, (await AskAsync("ana@otra.test", size: 2000)).Code);
        Assert.Equal("DUNNO", (await AskAsync("info@suempresa.test", size: 2000)).Action);
        // At the end of data: the real size times the tenant's recipients.
        Assert.Equal("DUNNO", (await AskAsync("ana@otra.test", instance: "E1")).Action);
        Assert.Equal(452, (await AskAsync("", state: "END-OF-MESSAGE", size: 1500, instance: "E1")).Code);

        _context.Use = new StorageUse(0, 0, 500, 0);
        Assert.Equal(452, (await AskAsync("info@suempresa.test")).Code);

        _context.Use = new StorageUse(4_000, 4_000, 1L << 40, 4_000);
        Assert.Equal("DUNNO", (await AskAsync("llena@otra.test", size: 500)).Action);
        PolicyDecision full = await AskAsync("llena@otra.test", size: 1500);
        Assert.Equal(452, full.Code);
        Assert.StartsWith("4.2.2", full.Text, StringComparison.Ordinal);
    }

    private sealed class FakeContext(RespaldoSettings settings) : IFrontDoorContext
    {
        public RespaldoSettings Settings { get; set; } = settings;

        public PrimaryAvailability Availability { get; set; } = PrimaryAvailability.Unknown;

        public AdvertisedSize Size { get; set; } = AdvertisedSize.NeverProbed;

        public StorageUse Use { get; set; } = new(0, 0, 1L << 40, 0);

        public int ProbeRequests { get; private set; }

        public TenantView? Tenant(string tenantId) => new(Availability, Size, () => ProbeRequests++);

        public Task<StorageUse?> MeasureAsync(string tenantId, string? mailbox, CancellationToken cancellationToken) => Task.FromResult<StorageUse?>(Use);
    }
}
