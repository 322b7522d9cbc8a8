using Microsoft.Extensions.Logging;
using Respaldo.Configuration;
using Respaldo.Journaling;

namespace Respaldo.Alerts;

/// <summary>
/// The alerts' outbox: records each alert in the journal, then delivers it on every channel the
/// tenant configured, retrying a failed delivery with a growing delay (5 s doubling to 10 min,
/// for up to a day). It runs on its own loop: nothing on the controller's path ever waits for it.
/// </summary>
public sealed partial class AlertDispatcher : IDisposable
{
    public static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan MaxRetry = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromDays(1);

    private readonly IReadOnlyList<IAlertChannel> _channels;
    private readonly Journal _journal;
    private readonly Func<string, Tenant?> _tenant;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly object _lock = new();
    private readonly List<Delivery> _pending = [];
    private readonly SemaphoreSlim _signal = new(0, int.MaxValue);

    private sealed record Delivery(ComposedAlert Alert, IAlertChannel Channel, int Attempt, DateTimeOffset Due);

    private readonly TimeSpan _firstRetry;

    public AlertDispatcher(
        IReadOnlyList<IAlertChannel> channels, Journal journal, Func<string, Tenant?> tenant, TimeProvider time, ILogger logger, TimeSpan? firstRetry = null)
    {
        _firstRetry = firstRetry ?? FirstRetry;
        _channels = channels;
        _journal = journal;
        _tenant = tenant;
        _time = time;
        _logger = logger;
    }

    /// <summary>Deliveries not yet done (for tests and the dashboard).</summary>
    public int Pending
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Records the alert and queues its deliveries; returns once it is queued (the journal write is not awaited).</summary>
    public ComposedAlert? Submit(Alert alert)
    {
        Tenant? tenant = _tenant(alert.TenantId);
        if (tenant is null)
        {
            return null;
        }
        ComposedAlert composed = ComposedAlert.From(alert, tenant);
        string State(string channel) => _channels.Any(c => c.Name == channel && c.AppliesTo(tenant)) ? "pending" : "none";
        _ = _journal.RecordAlertAsync(new AlertRecord(composed.Key, composed.At, composed.TenantId, composed.Kind,
            composed.Subject, composed.Body, composed.Payload, State("email"), State("webhook")));
        LogAlert(_logger, alert.TenantId, composed.Kind, composed.Key, composed.Subject);
        Enqueue(composed, tenant, _time.GetUtcNow());
        return composed;
    }

    /// <summary>After a restart: alerts still pending in the journal (younger than a day) are queued again.</summary>
    public int Resume()
    {
        IEnumerable<(ComposedAlert Alert, string Email, string Webhook)> rows = _journal.PendingAlerts(_time.GetUtcNow() - GiveUpAfter)
            .Select(r => (new ComposedAlert(r.Key, r.TenantId, r.Kind, r.At, r.Subject, r.Body, r.Payload), r.EmailState, r.WebhookState));
        DateTimeOffset now = _time.GetUtcNow();
        int queued = 0;
        foreach ((ComposedAlert alert, string email, string webhook) in rows)
        {
            if (_tenant(alert.TenantId) is not { } tenant)
            {
                continue;
            }
            foreach (IAlertChannel channel in _channels.Where(c => c.AppliesTo(tenant) && (c.Name == "email" ? email : webhook) == "pending"))
            {
                Add(new Delivery(alert, channel, 1, now));
                queued++;
            }
        }
        return queued;
    }

    private void Enqueue(ComposedAlert alert, Tenant tenant, DateTimeOffset due)
    {
        foreach (IAlertChannel channel in _channels.Where(c => c.AppliesTo(tenant)))
        {
            Add(new Delivery(alert, channel, 1, due));
        }
    }

    private void Add(Delivery d)
    {
        lock (_lock)
        {
            _pending.Add(d);
        }
        _signal.Release();
    }

    /// <summary>Delivers what is due until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            DateTimeOffset now = _time.GetUtcNow();
            List<Delivery> due;
            DateTimeOffset? next;
            lock (_lock)
            {
                due = _pending.Where(d => d.Due <= now).ToList();
                foreach (Delivery d in due)
                {
                    _pending.Remove(d);
                }
                next = _pending.Count == 0 ? null : _pending.Min(d => d.Due);
            }
            if (due.Count > 0)
            {
                await Task.WhenAll(due.Select(d => DeliverAsync(d, cancellationToken)));
                continue;
            }
            // Note: nothing pending waits for a signal only (an infinite timeout is -1 ms: keep it
            // apart from "overdue", which is clamped to zero).
            TimeSpan wait = next is { } n ? (n - now < TimeSpan.Zero ? TimeSpan.Zero : n - now) : System.Threading.Timeout.InfiniteTimeSpan;
            try
            {
                await _signal.WaitAsync(wait, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task DeliverAsync(Delivery d, CancellationToken cancellationToken)
    {
        Tenant? tenant = _tenant(d.Alert.TenantId);
        if (tenant is null || !d.Channel.AppliesTo(tenant))
        {
            await Record(d, "failed", "the tenant or its channel is no longer configured");
            return;
        }
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(60));
            await d.Channel.SendAsync(d.Alert, tenant, timeout.Token);
            await Record(d, "sent", null);
            LogSent(_logger, d.Alert.TenantId, d.Alert.Kind, d.Alert.Key, d.Channel.Name, d.Attempt);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Note: every failure of a channel (refused, timed out, unreachable, misconfigured) is
            // treated alike: record it and try again later; alerts never stop the controller.
            DateTimeOffset now = _time.GetUtcNow();
            bool giveUp = now - d.Alert.At >= GiveUpAfter;
            await Record(d, giveUp ? "failed" : "pending", e.Message);
            LogFailed(_logger, d.Alert.TenantId, d.Alert.Kind, d.Alert.Key, d.Channel.Name, d.Attempt, e.Message, giveUp ? "giving up" : "will retry");
            if (!giveUp)
            {
                TimeSpan delay = TimeSpan.FromTicks(Math.Min(MaxRetry.Ticks, _firstRetry.Ticks << Math.Min(d.Attempt - 1, 16)));
                Add(d with { Attempt = d.Attempt + 1, Due = now + delay });
            }
        }
    }

    private async Task Record(Delivery d, string state, string? error)
    {
        try
        {
            await _journal.RecordAlertAttemptAsync(d.Alert.Key, d.Channel.Name, state, error);
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or ObjectDisposedException)
        {
            LogNotRecorded(_logger, d.Alert.Key, e.Message);
        }
    }

    public void Dispose() => _signal.Dispose();

    [LoggerMessage(EventId = 1701, Level = LogLevel.Information, Message = "tenant {Tenant}: alert {Kind} ({Key}): {Subject}")]
    private static partial void LogAlert(ILogger logger, string tenant, string kind, string key, string subject);

    [LoggerMessage(EventId = 1702, Level = LogLevel.Information, Message = "tenant {Tenant}: alert {Kind} ({Key}) sent by {Channel} (attempt {Attempt})")]
    private static partial void LogSent(ILogger logger, string tenant, string kind, string key, string channel, int attempt);

    [LoggerMessage(EventId = 1703, Level = LogLevel.Warning, Message = "tenant {Tenant}: alert {Kind} ({Key}) by {Channel} failed (attempt {Attempt}): {Reason}; {Next}")]
    private static partial void LogFailed(ILogger logger, string tenant, string kind, string key, string channel, int attempt, string reason, string next);

    [LoggerMessage(EventId = 1704, Level = LogLevel.Error, Message = "alert {Key}: the journal did not record a delivery attempt: {Reason}")]
    private static partial void LogNotRecorded(ILogger logger, string key, string reason);
}
