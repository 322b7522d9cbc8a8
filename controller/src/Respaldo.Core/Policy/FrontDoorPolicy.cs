using System.Globalization;
using Microsoft.Extensions.Logging;
using Respaldo.Configuration;
using Respaldo.Journaling;
using Respaldo.Mailboxes;
using Respaldo.Primary;

namespace Respaldo.Policy;

/// <summary>
/// The backup's front door: Postfix asks it at RCPT TO (after its own checks: known domain,
/// listed mailbox or dynamic domain, no relaying) and at the end of data. For one recipient it
/// decides, in this order, the cheap rules first:
/// <list type="number">
/// <item>Accept only while the primary is down: while the controller believes it up, 450 "use the
///   primary MX" for every address alike (and a probe soon, since a sender at the backup is a
///   hint that it may be down); an unknown address is learned behind that answer. The one
///   exception is a fire drill the daemon itself started, known by the token in its envelope
///   sender (<see cref="Drills.DrillTickets"/>), never by anything an outsider could write.</item>
/// <item>Size: never more than the primary advertised at its last successful probe (552).</item>
/// <item>Is the recipient valid? A listed mailbox, an address in the admin's file, or (learning)
///   one the primary accepted in a callout. Learning while the primary is not known to be down
///   asks it (RCPT TO, RSET), within the client's callout budget (else 450), never from a
///   catch-all primary, and caches the verdict; while it is down only the cache counts and
///   any other address gets 450 (the sender retries; no backscatter, nothing lost).</item>
/// <item>Storage: the allocation, the tenant's share, the disk's free-space floor, a mailbox's
///   quota (452).</item>
/// </list>
/// Knows nothing of sockets: the daemon's listener hands it parsed requests.
/// </summary>
public sealed partial class FrontDoorPolicy : IDisposable
{
    private readonly IFrontDoorContext _context;
    private readonly RecipientCache _cache;
    private readonly RecipientCallout _callout = new();
    private readonly CalloutBudget _budget = new();
    private readonly CatchAllDetector _catchAll;
    private readonly List<Task> _learning = [];
    private readonly DynamicMailboxes _dynamic = new();
    private readonly TransactionMemory _transactions;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Dictionary<string, RecipientListFile> _files = new(StringComparer.Ordinal);
    private (RespaldoSettings Settings, TenantDirectory Directory)? _directory;
    private readonly Drills.DrillTickets? _drills;

    public FrontDoorPolicy(IFrontDoorContext context, Journal journal, TimeProvider time, ILogger logger, Drills.DrillTickets? drills = null)
    {
        _context = context;
        _drills = drills;
        _cache = new RecipientCache(journal);
        _catchAll = new CatchAllDetector(journal, _callout);
        _transactions = new TransactionMemory(time);
        _time = time;
        _logger = logger;
    }

    /// <summary>Creates Dovecot's dynamic userdb if any tenant may need it, before the first request.</summary>
    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        RespaldoSettings settings = _context.Settings;
        if (settings.Tenants.Any(t => t.Recipients.IsDynamic))
        {
            await _dynamic.PrepareAsync(settings.DynamicUsersPath, cancellationToken);
        }
    }

    public async Task<PolicyDecision> DecideAsync(PolicyRequest request, CancellationToken cancellationToken)
    {
        RespaldoSettings settings = _context.Settings;
        return request.ProtocolState switch
        {
            "RCPT" => await DecideRecipientAsync(settings, request, cancellationToken),
            "END-OF-MESSAGE" => await DecideEndOfMessageAsync(settings, request, cancellationToken),
            _ => PolicyDecision.Continue,
        };
    }

    private TenantDirectory Directory(RespaldoSettings settings)
    {
        (RespaldoSettings Settings, TenantDirectory Directory)? current = _directory;
        if (current is { } c && ReferenceEquals(c.Settings, settings))
        {
            return c.Directory;
        }
        var directory = new TenantDirectory(settings.Tenants);
        _directory = (settings, directory);
        return directory;
    }

    private async Task<PolicyDecision> DecideRecipientAsync(RespaldoSettings settings, PolicyRequest request, CancellationToken cancellationToken)
    {
        string raw = request.Recipient;
        int at = raw.LastIndexOf('@');
        Tenant? tenant = at < 0 ? null : Directory(settings).ForDomain(raw[(at + 1)..].TrimEnd('.'));
        if (tenant is null)
        {
            // Note: not one of ours; Postfix's reject_unauth_destination before us has already refused it.
            return PolicyDecision.Continue;
        }
        PolicyDecision decision = await DecideForTenantAsync(settings, tenant, request, cancellationToken);
        if (decision.Outcome != PolicyOutcome.Continue)
        {
            LogDecision(_logger, tenant.Id, raw, request.ClientAddress, decision.Action);
        }
        return decision;
    }

    private async Task<PolicyDecision> DecideForTenantAsync(RespaldoSettings settings, Tenant tenant, PolicyRequest request, CancellationToken cancellationToken)
    {
        // Note: the dot-atom syntax of the configuration (no quotes, '%', '!', '/', '@' in the local
        // part): the address becomes a maildir name, and every relay trick fails here as well.
        if (!MailAddress.TryNormalize(request.Recipient, out string address, out _))
        {
            return PolicyDecision.Reject(550, "5.1.3 Bad recipient address syntax");
        }
        TenantView? view = _context.Tenant(tenant.Id);
        if (view is null)
        {
            return PolicyDecision.NotReady;
        }
        DateTimeOffset now = _time.GetUtcNow();
        PrimaryStatus verdict = view.Availability.Verdict;
        bool listed = tenant.Mailboxes.Any(m => m.Address == address);

        // 1. Accept only while the primary is down. Note: first, before any callout: the answer
        // is the same for every address, so a client probing the backup while the primary is up
        // learns nothing about which addresses exist, and costs the primary nothing it did not
        // budget for (learning then goes on in the background, see LearnInBackground).
        // Note: a drill's ticket is spent at its RCPT whatever the primary's state: single use.
        bool drill = _drills is not null && Drills.DrillTickets.LooksLikeDrill(request.Sender)
            && _drills.TryRedeem(tenant.Id, address, request.Sender, now);
        if (drill)
        {
            LogDrill(_logger, tenant.Id, address, verdict.ToString().ToLowerInvariant());
        }
        if (tenant.AcceptOnlyWhilePrimaryDown && verdict != PrimaryStatus.Down && !drill)
        {
            view.RequestProbe();
            if (!listed)
            {
                LearnInBackground(settings, tenant, address, request.ClientAddress, now);
            }
            string domain = MailAddress.DomainOf(address);
            return verdict == PrimaryStatus.Up
                ? PolicyDecision.Defer(450, $"4.7.1 This backup MX takes mail for {domain} only while its primary MX is down; please deliver to the primary")
                : PolicyDecision.Defer(451, $"4.4.0 The state of the primary MX of {domain} is being checked; please try again later");
        }

        // 2. Size, as declared with MAIL FROM ... SIZE= (RFC 1870).
        long limit = SizeLimit(settings, view.AdvertisedSize);
        if (request.Size > limit)
        {
            return TooBig(limit);
        }

        // 3. Is the recipient valid? (the only rule that may ask the primary)
        if (!listed)
        {
            PolicyDecision? unknown = await CheckDynamicRecipientAsync(settings, tenant, address, request.ClientAddress, verdict, now);
            if (unknown is not null)
            {
                return unknown;
            }
        }

        // 4. Storage.
        StorageUse? use = await _context.MeasureAsync(tenant.Id, listed ? address : null, cancellationToken);
        if (use is null)
        {
            return PolicyDecision.NotReady;
        }
        if (CheckStorage(settings.Storage, tenant, use, request.Size, request.Size) is { } full)
        {
            return full;
        }
        Mailbox? mailbox = listed ? tenant.Mailboxes.First(m => m.Address == address) : null;
        if (mailbox?.Quota is { } quota && use.MailboxBytes + Math.Max(request.Size, 1) > quota)
        {
            return PolicyDecision.Defer(452, "4.2.2 Mailbox full, please try again later");
        }

        // A new address: Dovecot must know it before the message comes (it creates the maildir then).
        if (!listed && await _dynamic.EnsureAsync(settings.DynamicUsersPath, address, cancellationToken))
        {
            LogNewMailbox(_logger, tenant.Id, address);
        }
        _transactions.Remember(request.Instance, tenant.Id);
        return PolicyDecision.Continue;
    }

    /// <summary>Null when the address is valid; otherwise the answer for an unknown or unverified one.</summary>
    private async Task<PolicyDecision?> CheckDynamicRecipientAsync(
        RespaldoSettings settings, Tenant tenant, string address, string client, PrimaryStatus verdict, DateTimeOffset now)
    {
        PolicyDecision unknown = PolicyDecision.Reject(550, "5.1.1 User unknown");
        PolicyDecision unverified = PolicyDecision.Defer(450, "4.1.1 Recipient not verified while the primary MX is unreachable; please try again later");
        if (!tenant.Recipients.IsDynamic)
        {
            // Note: Postfix's own reject_unlisted_recipient says the same before asking us.
            return unknown;
        }
        if (tenant.Recipients.File is { } path && File(path).Contains(tenant, address, now))
        {
            return null;
        }
        if (!tenant.Recipients.Learn)
        {
            return unknown;
        }
        // Note: what was learned from a catch-all primary proves nothing (its 250 is for any
        // address): while it is one, only the listed mailboxes and the file count.
        bool catchAll = _catchAll.Known(tenant, MailAddress.DomainOf(address)) is { CatchAll: true };
        if (catchAll && verdict == PrimaryStatus.Down)
        {
            return unverified;
        }
        RecipientRecord? known = _cache.Lookup(tenant, address, now);
        if ((known is null || catchAll) && verdict != PrimaryStatus.Down)
        {
            LearnOutcome outcome = await LearnAsync(settings, tenant, address, client, now);
            switch (outcome)
            {
                case LearnOutcome.OverBudget:
                    return PolicyDecision.Defer(450, "4.7.1 Too many unverified recipients from your address; please try again later");
                case LearnOutcome.CatchAll:
                    return PolicyDecision.Defer(450, "4.1.1 Recipient not verified; please deliver to the primary MX");
            }
            known = _cache.Lookup(tenant, address, now);
        }
        if (known is { Valid: true })
        {
            return null;
        }
        if (known is { Valid: false } && verdict != PrimaryStatus.Down)
        {
            return PolicyDecision.Reject(550, "5.1.1 User unknown at the primary MX");
        }
        // Note: the primary is down (or did not answer) and the address is not known valid:
        // the sender keeps the message and retries; once the primary answers, a callout decides.
        return unverified;
    }

    private enum LearnOutcome
    {
        /// <summary>Asked; the cache holds the verdict if there was one.</summary>
        Asked,
        /// <summary>The client has used its callouts; the primary was not asked.</summary>
        OverBudget,
        /// <summary>The primary accepts any address of the domain: nothing learned.</summary>
        CatchAll,
    }

    /// <summary>
    /// A callout for <paramref name="address"/>, within the client's budget, from a primary that
    /// is not a catch-all (probed first with a random local part); its verdict goes to the cache.
    /// </summary>
    private async Task<LearnOutcome> LearnAsync(RespaldoSettings settings, Tenant tenant, string address, string client, DateTimeOffset now)
    {
        ControllerSettings c = settings.Controller;
        string domain = MailAddress.DomainOf(address);
        if (_catchAll.Known(tenant, domain) is { CatchAll: true } k && now - k.CheckedAt < CatchAllDetector.RecheckAfter)
        {
            return LearnOutcome.CatchAll;
        }
        if (!_budget.TryTake(client, now, c.CalloutsPerClientPerMinute, c.CalloutsPerClientPerHour))
        {
            LogOverBudget(_logger, tenant.Id, address, client);
            return LearnOutcome.OverBudget;
        }
        bool? catchAll = await _catchAll.IsCatchAllAsync(settings.Hostname, tenant, domain, c.CalloutTimeout, now);
        if (catchAll == true)
        {
            LogCatchAll(_logger, tenant.Id, domain);
            return LearnOutcome.CatchAll;
        }
        CalloutResult result = await _callout.VerifyAsync(settings.Hostname, tenant, address, c.CalloutTimeout);
        LogCallout(_logger, tenant.Id, address, result.Outcome.ToString().ToLowerInvariant(), result.Reason);
        if (result.Outcome != CalloutOutcome.Unverified)
        {
            await _cache.RecordAsync(new RecipientRecord(tenant.Id, address, result.Outcome == CalloutOutcome.Valid, _time.GetUtcNow(), result.Reply?.Code, result.Reason));
        }
        return LearnOutcome.Asked;
    }

    /// <summary>
    /// While the primary is up and the tenant takes mail only while it is down, the RCPT gets 450
    /// at once and the address is learned behind it (for the next outage), within the client's
    /// budget: the answer never depends on the callout.
    /// </summary>
    private void LearnInBackground(RespaldoSettings settings, Tenant tenant, string address, string client, DateTimeOffset now)
    {
        if (!tenant.Recipients.Learn
            || (tenant.Recipients.File is { } path && File(path).Contains(tenant, address, now))
            || _cache.Lookup(tenant, address, now) is not null)
        {
            return;
        }
        Task learning = Task.Run(async () =>
        {
            try
            {
                await LearnAsync(settings, tenant, address, client, now);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
            {
                LogLearnFailed(_logger, tenant.Id, address, e.Message);
            }
        });
        lock (_learning)
        {
            _learning.Add(learning);
            _learning.RemoveAll(t => t.IsCompleted);
        }
    }

    /// <summary>Completes when every callout started behind a 450 has ended (for tests).</summary>
    internal Task LearningSettledAsync()
    {
        lock (_learning)
        {
            return Task.WhenAll(_learning.ToList());
        }
    }

    private async Task<PolicyDecision> DecideEndOfMessageAsync(RespaldoSettings settings, PolicyRequest request, CancellationToken cancellationToken)
    {
        IReadOnlyDictionary<string, int> tenants = _transactions.Take(request.Instance);
        if (tenants.Count == 0 && request.Recipient.Length > 0)
        {
            int at = request.Recipient.LastIndexOf('@');
            if (at >= 0 && Directory(settings).ForDomain(request.Recipient[(at + 1)..]) is { } t)
            {
                tenants = new Dictionary<string, int> { [t.Id] = 1 };
            }
        }
        long size = request.Size;
        long copies = tenants.Values.Sum();
        foreach ((string tenantId, int count) in tenants)
        {
            Tenant? tenant = settings.Tenants.FirstOrDefault(t => t.Id == tenantId);
            TenantView? view = _context.Tenant(tenantId);
            if (tenant is null || view is null)
            {
                continue;
            }
            long limit = SizeLimit(settings, view.AdvertisedSize);
            PolicyDecision? decision = size > limit ? TooBig(limit) : null;
            if (decision is null)
            {
                StorageUse? use = await _context.MeasureAsync(tenantId, null, cancellationToken);
                decision = use is null ? PolicyDecision.NotReady : CheckStorage(settings.Storage, tenant, use, size * count, size * copies);
            }
            if (decision is not null)
            {
                LogDecision(_logger, tenantId, request.Recipient.Length > 0 ? request.Recipient : $"{request.RecipientCount} recipient(s)", request.ClientAddress, decision.Action);
                return decision;
            }
        }
        return PolicyDecision.Continue;
    }

    /// <summary>The tenant's limit: the configured one, lowered to what its primary advertised at its last successful probe.</summary>
    public static long SizeLimit(RespaldoSettings settings, AdvertisedSize advertised) =>
        advertised.MaxSize is { } primary ? Math.Min(primary, settings.MessageSizeLimit) : settings.MessageSizeLimit;

    private static PolicyDecision TooBig(long limit) =>
        PolicyDecision.Reject(552, string.Create(CultureInfo.InvariantCulture, $"5.3.4 Message size exceeds the limit of the recipient's primary MX ({limit} bytes)"));

    /// <summary>
    /// 452 when storing <paramref name="incomingTenant"/> more bytes for the tenant (and
    /// <paramref name="incomingTotal"/> in all) would pass its share, the allocation, or the
    /// disk's free-space floor. An undeclared size counts as one byte: a backup already full
    /// takes nothing more.
    /// </summary>
    public static PolicyDecision? CheckStorage(StorageSettings storage, Tenant tenant, StorageUse use, long incomingTenant, long incomingTotal)
    {
        long forTenant = Math.Max(incomingTenant, 1);
        long forAll = Math.Max(incomingTotal, 1);
        if (use.FreeBytes is { } free && free - forAll < storage.MinimumFree)
        {
            return PolicyDecision.StorageFull;
        }
        if (use.TotalBytes + forAll > storage.Allocation)
        {
            return PolicyDecision.StorageFull;
        }
        if (tenant.StorageShare is { } share && use.TenantBytes + forTenant > share)
        {
            return PolicyDecision.StorageFull;
        }
        return null;
    }

    public void Dispose()
    {
        _callout.Dispose();
        _dynamic.Dispose();
    }

    private RecipientListFile File(string path)
    {
        lock (_files)
        {
            if (!_files.TryGetValue(path, out RecipientListFile? file))
            {
                file = new RecipientListFile(path);
                _files[path] = file;
            }
            return file;
        }
    }

    [LoggerMessage(EventId = 1501, Level = LogLevel.Information, Message = "tenant {Tenant}: RCPT <{Recipient}> from {Client}: {Action}")]
    private static partial void LogDecision(ILogger logger, string tenant, string recipient, string client, string action);

    [LoggerMessage(EventId = 1507, Level = LogLevel.Information, Message = "tenant {Tenant}: RCPT <{Recipient}>: a fire drill this daemon started (its token verified and spent); the primary is {Primary}, the other rules apply")]
    private static partial void LogDrill(ILogger logger, string tenant, string recipient, string primary);

    [LoggerMessage(EventId = 1502, Level = LogLevel.Information, Message = "tenant {Tenant}: callout for <{Recipient}>: {Outcome} ({Reason})")]
    private static partial void LogCallout(ILogger logger, string tenant, string recipient, string outcome, string reason);

    [LoggerMessage(EventId = 1504, Level = LogLevel.Information, Message = "tenant {Tenant}: RCPT <{Recipient}> from {Client}: over its callout budget; 450, the primary is not asked")]
    private static partial void LogOverBudget(ILogger logger, string tenant, string recipient, string client);

    [LoggerMessage(EventId = 1505, Level = LogLevel.Warning, Message = "tenant {Tenant}: the primary accepts any address of {Domain} (catch-all): nothing is learned from it; only the listed mailboxes and the recipients file count")]
    private static partial void LogCatchAll(ILogger logger, string tenant, string domain);

    [LoggerMessage(EventId = 1506, Level = LogLevel.Warning, Message = "tenant {Tenant}: learning <{Recipient}> failed: {Error}")]
    private static partial void LogLearnFailed(ILogger logger, string tenant, string recipient, string error);

    [LoggerMessage(EventId = 1503, Level = LogLevel.Information, Message = "tenant {Tenant} mailbox {Mailbox}: accepted beyond the listed mailboxes; added to Dovecot's dynamic userdb")]
    private static partial void LogNewMailbox(ILogger logger, string tenant, string mailbox);
}
