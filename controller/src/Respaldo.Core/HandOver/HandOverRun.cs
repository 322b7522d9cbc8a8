using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Respaldo.Configuration;
using Respaldo.Journaling;
using Respaldo.Mailboxes;
using Respaldo.Smtp;
using Respaldo.Events;
using Respaldo.Holds;

namespace Respaldo.HandOver;

/// <summary>What a hand-over run needs from the rest of the controller.</summary>
public sealed record HandOverContext(
    RespaldoSettings Settings,
    Journal Journal,
    MailboxIndex Index,
    HoldArea Holds,
    RetrySchedule Retries,
    ControllerEvents Events,
    TimeProvider Time,
    ILogger Logger)
{
    /// <summary>Where non-messages found in a mailbox are reported once (shared with the watcher); the run's own when null.</summary>
    public StrayEntries? Strays { get; init; }

    /// <summary>open(2) for stored messages; a seam for tests (an EACCES while running as root). The system's when null.</summary>
    public MessageFile.OpenFunction? OpenFile { get; init; }

    /// <summary>The node's port checks, shared by tenants with the same primary host and port; each tenant checks on its own when null.</summary>
    public Primary.PortChecks? PortChecks { get; init; }

    /// <summary>The node's hand-over connections (controller.maxConnections), shared by every tenant's runs; no node-wide bound when null.</summary>
    public ConnectionSlots? Slots { get; init; }
}

/// <summary>
/// One hand-over of a tenant's waiting messages to its primary: several connections at once
/// (primary.connections), many messages per connection, oldest first. For each message:
/// 250 → journal (durable) → delete the copy; 4xx/timeout/drop → stays, retried later;
/// 5xx or "cannot go as it is" → hold area, journal, alert event. A 421 or a primary that
/// stops answering ends the run for the whole tenant, leaving the rest waiting.
/// </summary>
#pragma warning disable CA1001 // _noMoreWork holds no timer or OS handle, and a settlement may cancel it after the run ended.
public sealed partial class HandOverRun
#pragma warning restore CA1001
{
    private readonly Tenant _tenant;
    private readonly HostPort _host;
    private readonly HandOverContext _context;
    // Note: the messages are taken one at a time by index, each made from the index only when a
    // worker takes it; what the run holds at once is bounded by its connections and the journal
    // records not yet durable, not by the backlog.
    private readonly IReadOnlyList<Mailboxes.WaitingMessage> _messages;
    private int _next = -1;
    private readonly PendingRecords _pending = new();
    private readonly object _rateLock = new();
    private DateTimeOffset _nextSlot;
    private readonly StrayEntries _strays;
    private volatile bool _stop;
    // Note: cancelled when the run needs no more workers (stopped, or every message taken); never
    // disposed, since a journal settlement may stop the run after its workers ended (it holds no timer).
    private readonly CancellationTokenSource _noMoreWork = new();
    private int _holding;
    // Note: the workers' connections tried and made, and how many waited for a slot (logged once a run).
    private int _tried;
    private int _connected;
    private int _waitedForSlot;

    public HandOverRun(Tenant tenant, HostPort host, IReadOnlyList<Mailboxes.WaitingMessage> messages, HandOverContext context)
    {
        _tenant = tenant;
        _host = host;
        _context = context;
        _strays = context.Strays ?? new StrayEntries(context.Logger);
        _messages = messages;
        Progress = new HandOverProgress(tenant.Id, host.ToString(), messages.Count, context.Time.GetUtcNow());
    }

    public HandOverProgress Progress { get; }

    public Task<HandOverProgress> ExecuteAsync(CancellationToken cancellationToken) => ExecuteAsync(cancellationToken, cancellationToken);

    /// <summary>
    /// Hands the messages over until done. <paramref name="stopping"/> (a stop or a reload) only
    /// stops starting messages: those in flight go on to their end and are journaled (a message
    /// whose envelope alone went, behind the previous one's end of data, is not in flight: the
    /// replies to its envelope are read, a refusal settled as its attempt, and it is otherwise
    /// dropped before its data and stays waiting);
    /// <paramref name="abort"/> (the stop's grace ran out) cuts them too, though never after a
    /// final dot (<see cref="MessageSender.SendAsync"/>).
    /// </summary>
    public async Task<HandOverProgress> ExecuteAsync(CancellationToken stopping, CancellationToken abort)
    {
        int workers = Math.Clamp(_tenant.Primary.Connections, 1, Math.Max(1, Progress.Total));
        LogStarted(_context.Logger, _tenant.Id, Progress.Total, _host.ToString(), workers);
        Task[] tasks = Enumerable.Range(0, workers).Select(_ => Task.Run(() => WorkAsync(stopping, abort), CancellationToken.None)).ToArray();
        await Task.WhenAll(tasks);
        // Deletions wait for their journal commit; let every one finish before reporting.
        try
        {
            await _pending.WhenAllAsync();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Note: a record that failed kept its copy (a delivery) or leaves a held file that the
            // next start records (a hold); the tenant's loop must go on either way.
            LogJournalFailed(_context.Logger, _tenant.Id, e.GetBaseException().Message);
        }
        if (_connected == 0 && Progress.Total > 0)
        {
            // Note: a primary that failed a connection already stopped the run as lost (Stop, at
            // OpenAsync). Anything else that ends a run before its first connection is a stop (in
            // the queue for a slot of the node's, or during a connect): it says nothing of the
            // primary, so no "primary down" and no alert.
            Progress.StopReason ??= _tried == 0 ? "stopped before any connection" : "stopped while connecting";
        }
        Progress.Finish(_context.Time.GetUtcNow());
        LogFinished(_context.Logger, _tenant.Id, Progress.Delivered, Progress.Deferred, Progress.Held, Progress.Total,
            (Progress.Finished!.Value - Progress.Started).TotalSeconds, Progress.StopReason ?? "done");
        _context.Events.Raise(new HandOverFinished(_tenant.Id, Progress.Finished.Value, Progress));
        return Progress;
    }

    /// <summary>
    /// One worker: a slot of the node's connections first (<see cref="ConnectionSlots"/>; a
    /// worker that a stop finds still waiting ends without a connection), then messages over
    /// one connection at a time until none is left.
    /// </summary>
    private async Task WorkAsync(CancellationToken stopping, CancellationToken abort)
    {
        ConnectionSlots? slots = _context.Slots;
        if (Volatile.Read(ref _next) + 1 >= _messages.Count)
        {
            // Note: nothing left to take (a run of none, or the others took all): no slot needed.
            return;
        }
        if (slots is not null && !slots.TryTake())
        {
            if (Interlocked.Increment(ref _waitedForSlot) == 1)
            {
                LogWaitingForSlot(_context.Logger, _tenant.Id, slots.InUse, slots.Limit, slots.Waiting + 1);
            }
            // Note: the wait ends with a stop, and with the run's own end (stopped by a 421, a failed
            // connect or the journal, or every message taken by the workers that got a slot).
            using var leave = CancellationTokenSource.CreateLinkedTokenSource(stopping, _noMoreWork.Token);
            // Note: waiting for other tenants' connections is no hang, so it counts as the run's
            // activity for the watchdog; only while no worker of the run holds a slot, though: one
            // that does shows its own progress (or its hang).
            if (!await slots.TakeAsync(SlotBeat, () =>
                {
                    if (Volatile.Read(ref _holding) == 0)
                    {
                        Progress.Activity.Add();
                    }
                }, _context.Time, leave.Token))
            {
                return;
            }
        }
        Interlocked.Increment(ref _holding);
        try
        {
            await WorkOnAsync(stopping, abort);
        }
        finally
        {
            Interlocked.Decrement(ref _holding);
            slots?.Release();
        }
    }

    /// <summary>How often a worker waiting for a slot shows it is alive (well within any run's allowance).</summary>
    private static readonly TimeSpan SlotBeat = TimeSpan.FromSeconds(1);

    private async Task WorkOnAsync(CancellationToken stopping, CancellationToken abort)
    {
        ControllerSettings pace = _context.Settings.Controller;
        SmtpConnection? connection = null;
        // Note: pipelining across messages (RFC 2920 §3.1): the next message is read and checked
        // before this one goes, so its envelope can join this one's end of data in one write. Not
        // under a rate cap, whose slots are taken one message at a time.
        bool lookAhead = _tenant.Primary.MaxMessagesPerSecond <= 0;
        PreparedMessage? current = null;
        PreparedMessage? next = null;
        // Note: true when current's envelope went behind the previous message's end of data on
        // this connection: the primary may have opened its transaction (even its DATA).
        bool envelopeSent = false;
        try
        {
            while (true)
            {
                if (_stop || stopping.IsCancellationRequested)
                {
                    if (envelopeSent && connection is not null && current is not null)
                    {
                        // Note: a stop (or a 421 elsewhere) in the middle of a group: current's
                        // envelope is out but not its data. Its replies are read first: a refusal
                        // is current's attempt and is settled as such. Then the connection is
                        // dropped without QUIT (in DATA the QUIT would be read as message text),
                        // so the primary discards an open transaction; an accepted current is not
                        // settled: its copy stays, untouched, no attempt recorded, and goes at
                        // the next run.
                        var waited = Stopwatch.StartNew();
                        try
                        {
                            if (await SenderOn(connection).EnvelopeRepliesAsync(current, abort) is { } refused)
                            {
                                Settle(current.Message, refused, current.Envelope, waited.Elapsed);
                                current.Dispose();
                                current = null;
                                if (refused.ServiceClosing)
                                {
                                    Stop($"the primary answered 421: {refused.Reply?.OneLine}", primaryLost: true);
                                }
                            }
                        }
                        finally
                        {
                            // Note: never a QUIT here, even when an abort cut the reading.
                            await connection.DisposeAsync();
                            connection = null;
                        }
                    }
                    break;
                }
                if (current is null && Volatile.Read(ref _next) + 1 >= _messages.Count)
                {
                    break;
                }
                if (connection is null)
                {
                    envelopeSent = false;
                    Interlocked.Increment(ref _tried);
                    try
                    {
                        connection = await SmtpConnection.OpenAsync(_host, _context.Settings.Hostname, _tenant.Primary.Tls, pace.CommandTimeout, stopping, Progress.Activity);
                        connection.LimitSendBuffer(MessageDeadline.SendBuffer(pace));
                        Interlocked.Increment(ref _connected);
                    }
                    catch (SmtpSessionException e)
                    {
                        // The message was not attempted: it simply stays waiting.
                        Stop(e.Message, primaryLost: true);
                        break;
                    }
                }
                // Note: the connection first, as before: while the primary cannot be reached no
                // message is even read.
                current ??= await PrepareNextAsync(abort);
                if (current is null)
                {
                    break;
                }
                if (!envelopeSent)
                {
                    await RateLimitAsync(stopping);
                }
                var clock = Stopwatch.StartNew();
                if (lookAhead && connection.Capabilities.Pipelining && !_stop && !stopping.IsCancellationRequested)
                {
                    next = await PrepareNextAsync(abort);
                }
                // Note: from here the message goes on through a stop; only abort cuts it.
                (HandOverResult result, bool nextSent) = await SenderOn(connection).SendAsync(current, envelopeSent, next, stopping, abort);
                // Note: current is settled on its own reply only; next's envelope (if it went) is
                // answered after it and decides nothing about current.
                Settle(current.Message, result, current.Envelope, clock.Elapsed);
                current.Dispose();
                current = next;
                next = null;
                envelopeSent = nextSent && !result.SessionLost;
                if (result.SessionLost)
                {
                    // Note: next's envelope, if it went, died with the session (after a 421 the
                    // primary acts on nothing more): next goes again from the start, on a new
                    // connection, or at the next run.
                    await connection.DisposeAsync();
                    connection = null;
                    if (result.ServiceClosing)
                    {
                        Stop($"the primary answered 421: {result.Reply?.OneLine}", primaryLost: true);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested || abort.IsCancellationRequested)
        {
            // Shutting down: what was not settled stays in its mailbox.
        }
        finally
        {
            current?.Dispose();
            next?.Dispose();
            if (connection is not null)
            {
                await connection.QuitAsync(CancellationToken.None);
                await connection.DisposeAsync();
            }
        }
    }

    private MessageSender SenderOn(SmtpConnection connection) =>
        new(connection, _context.Settings.Controller.DataTimeout, _context.OpenFile) { MinimumDataRate = _context.Settings.Controller.MinimumDataRate };

    /// <summary>
    /// The next message that can go, read and checked; those that cannot (vanished, held before
    /// MAIL, unreadable now) are settled on the way. Null when all were taken.
    /// </summary>
    private async Task<PreparedMessage?> PrepareNextAsync(CancellationToken cancellationToken)
    {
        while (TakeNext() is { } message)
        {
            var clock = Stopwatch.StartNew();
            (HandOverResult? result, Envelope? envelope, PreparedMessage? prepared) = await MessageSender.PrepareAsync(message, _context.OpenFile, cancellationToken);
            if (prepared is not null)
            {
                return prepared;
            }
            Settle(message, result!, envelope, clock.Elapsed);
        }
        return null;
    }

    /// <summary>The next message in order, made from the index now (with the path it has now); null when all were taken.</summary>
    private Mailboxes.WaitingMessage? TakeNext()
    {
        int i = Interlocked.Increment(ref _next);
        if (i >= _messages.Count - 1)
        {
            // Note: every message is taken: workers still waiting for a slot have nothing to do.
            _noMoreWork.Cancel();
        }
        return i < _messages.Count ? _messages[i] : null;
    }

    private void Stop(string reason, bool primaryLost)
    {
        _stop = true;
        _noMoreWork.Cancel();
        Progress.StopReason ??= reason;
        if (primaryLost)
        {
            Progress.PrimaryLost = true;
        }
    }

    private async Task RateLimitAsync(CancellationToken cancellationToken)
    {
        double rate = _tenant.Primary.MaxMessagesPerSecond;
        if (rate <= 0)
        {
            return;
        }
        TimeSpan wait;
        lock (_rateLock)
        {
            DateTimeOffset now = _context.Time.GetUtcNow();
            DateTimeOffset slot = _nextSlot > now ? _nextSlot : now;
            _nextSlot = slot + TimeSpan.FromSeconds(1 / rate);
            wait = slot - now;
        }
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, _context.Time, cancellationToken);
        }
    }

    private void Settle(Mailboxes.WaitingMessage message, HandOverResult result, Envelope? envelope, TimeSpan elapsed)
    {
        int attempt = _context.Retries.Attempts(message.Key) + 1;
        HandOverRecord Record(string outcome) => new(
            _tenant.Id, message.Mailbox, message.BaseName, message.Size, envelope?.Sender, envelope?.Recipient, _host.ToString(),
            outcome, result.Stage.ToString(), result.Reply?.Code, result.Reply?.OneLine ?? result.Reason, attempt, elapsed.TotalMilliseconds);

        if (result.Outcome is HandOverOutcome.Delivered or HandOverOutcome.Deferred or HandOverOutcome.Held)
        {
            string outcome = result.Outcome.ToString().ToLowerInvariant();
            _context.Events.Raise(new MessageAttempted(_tenant.Id, _context.Time.GetUtcNow(), outcome, message.Size, elapsed));
        }
        switch (result.Outcome)
        {
            case HandOverOutcome.Delivered:
                Progress.AddDelivered(message.Size);
                // The copy is deleted only once the 250 is durable; the worker does not wait for
                // that (group commit), it goes on with the next message.
                // Note: the journal settles a committed group's deliveries together, in one pool
                // work item, never on its writer thread; a record it refused at once (closed, or
                // its test seam) is settled here, so it stops the run before this worker starts
                // its next message.
                _pending.Add(_context.Journal.RecordHandOverAsync(Record("delivered"),
                    failure => AfterDeliveryRecorded(failure, message, result)));
                break;
            case HandOverOutcome.Deferred:
                Progress.AddDeferred();
                _context.Retries.Deferred(message.Key, _context.Time.GetUtcNow());
                LogDeferred(_context.Logger, _tenant.Id, message.Mailbox, message.BaseName, "deferred", result.Reason);
                _pending.Add(_context.Journal.RecordHandOverAsync(Record("deferred")));
                RaiseSettled(message, "deferred", result.Reply?.Code, result.Reply?.OneLine ?? result.Reason);
                break;
            case HandOverOutcome.Held:
                if (Hold(message, result, envelope, Record("held")) is { } notHeld)
                {
                    // Note: the hold area could not take it (ENOSPC creating its directory, say):
                    // the copy stays in its mailbox and is tried again later, like a 4xx. The run
                    // goes on: the other messages may still go.
                    Progress.AddDeferred();
                    _context.Retries.Deferred(message.Key, _context.Time.GetUtcNow());
                    string reason = $"{result.Reason}; but it cannot be moved to the hold area ({notHeld}), so it stays in its mailbox";
                    LogDeferred(_context.Logger, _tenant.Id, message.Mailbox, message.BaseName, "deferred", reason);
                    _pending.Add(_context.Journal.RecordHandOverAsync(Record("deferred") with { Reply = reason }));
                    RaiseSettled(message, "deferred", result.Reply?.Code, reason);
                }
                else
                {
                    Progress.AddHeld();
                    RaiseSettled(message, "held", result.Reply?.Code, result.Reply?.OneLine ?? result.Reason);
                }
                break;
            case HandOverOutcome.Vanished:
                _context.Index.Remove(_tenant.Id, message.Key);
                break;
            case HandOverOutcome.NotAMessage:
                // Note: never read, never moved, never deleted: it is not ours, and an admin should
                // see it where it is. Out of the index; the scanner leaves it out from now on.
                Progress.AddSkipped();
                _context.Index.Remove(_tenant.Id, message.Key);
                _context.Retries.Forget(message.Key);
                _strays.Report(_tenant.Id, message.Mailbox, message.Path, result.Reason);
                break;
        }
    }

    private void AfterDeliveryRecorded(Exception? failure, Mailboxes.WaitingMessage message, HandOverResult result)
    {
        if (failure is not null)
        {
            // Note: without a durable record the copy stays and is sent again later (a duplicate,
            // never a loss). Not at once: a journal that cannot write (disk full) would make every
            // pass deliver another copy, hundreds a minute (found by the chaos tier's full disk).
            // The copy waits its retry, and this run stops: no delivery it makes can be recorded.
            string why = failure.GetBaseException().Message;
            _context.Retries.Deferred(message.Key, _context.Time.GetUtcNow());
            Stop($"the journal cannot record deliveries: {why}", primaryLost: false);
            LogNotRecorded(_context.Logger, _tenant.Id, message.Mailbox, message.BaseName, why);
            return;
        }
        // Note: out of the index before the unlink, so the watcher's delete event for it (the
        // echo of this unlink) finds nothing to drop: a lookup, no second removal racing this
        // one. The 250 is durable already: a scan that finds the file in between reconciles it
        // as delivered and deletes it, never sends it.
        _context.Index.Remove(_tenant.Id, message.Key);
        try
        {
            StoredCopy.Delete(message);
        }
        catch (IOException e)
        {
            // Note: the primary has it and the journal says so: it must not be sent again. Out of
            // the index; the next scan finds the file, reconciliation sees "delivered" and tries
            // the deletion again.
            LogNotDeleted(_context.Logger, _tenant.Id, message.Mailbox, message.BaseName, e.Message);
        }
        _context.Retries.Forget(message.Key);
        RaiseSettled(message, "delivered", result.Reply?.Code, result.Reply?.OneLine ?? "");
        LogDelivered(_context.Logger, _tenant.Id, message.Mailbox, message.BaseName, "delivered", message.Size, result.Reply?.OneLine ?? "");
    }

    private void RaiseSettled(Mailboxes.WaitingMessage message, string outcome, int? code, string reply) =>
        _context.Events.Raise(new MessageSettled(_tenant.Id, _context.Time.GetUtcNow(), message.Mailbox, message.BaseName, outcome, code, reply));

    /// <summary>Moves the message to the hold area and records it; null when done (or it had vanished), else why it could not be moved.</summary>
    private string? Hold(Mailboxes.WaitingMessage message, HandOverResult result, Envelope? envelope, HandOverRecord record)
    {
        string? held;
        try
        {
            held = _context.Holds.Hold(message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e.Message;
        }
        _context.Index.Remove(_tenant.Id, message.Key);
        _context.Retries.Forget(message.Key);
        if (held is null)
        {
            return null;
        }
        LogHeld(_context.Logger, _tenant.Id, message.Mailbox, message.BaseName, "held", result.Reason);
        _pending.Add(_context.Journal.RecordHandOverAsync(record));
        _pending.Add(_context.Journal.RecordHoldAsync(new HoldRecord(
            _tenant.Id, message.Mailbox, message.BaseName, message.Size, envelope?.Sender, envelope?.Recipient, held, result.Reason, result.Reply?.Code)));
        _context.Events.Raise(new MessageHeld(_tenant.Id, _context.Time.GetUtcNow(), message, held, result.Reason));
        return null;
    }

    [LoggerMessage(EventId = 1401, Level = LogLevel.Information, Message = "tenant {Tenant}: handing over {Count} message(s) to {Host} on {Connections} connection(s)")]
    private static partial void LogStarted(ILogger logger, string tenant, int count, string host, int connections);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Information, Message = "tenant {Tenant}: hand-over ended: {Delivered} delivered, {Deferred} deferred, {Held} held of {Total} in {Seconds:0.0}s ({Reason})")]
    private static partial void LogFinished(ILogger logger, string tenant, int delivered, int deferred, int held, int total, double seconds, string reason);

    [LoggerMessage(EventId = 1403, Level = LogLevel.Debug, Message = "tenant {Tenant} mailbox {Mailbox} message {Message}: {Outcome} ({Size} bytes): {Reply}")]
    private static partial void LogDelivered(ILogger logger, string tenant, string mailbox, string message, string outcome, long size, string reply);

    [LoggerMessage(EventId = 1404, Level = LogLevel.Information, Message = "tenant {Tenant} mailbox {Mailbox} message {Message}: {Outcome}: {Reason}")]
    private static partial void LogDeferred(ILogger logger, string tenant, string mailbox, string message, string outcome, string reason);

    [LoggerMessage(EventId = 1405, Level = LogLevel.Warning, Message = "tenant {Tenant} mailbox {Mailbox} message {Message}: {Outcome}: {Reason}")]
    private static partial void LogHeld(ILogger logger, string tenant, string mailbox, string message, string outcome, string reason);

    [LoggerMessage(EventId = 1406, Level = LogLevel.Error, Message = "tenant {Tenant} mailbox {Mailbox} message {Message}: delivered but the journal did not record it ({Reason}); the copy is kept and will be sent again after its retry delay")]
    private static partial void LogNotRecorded(ILogger logger, string tenant, string mailbox, string message, string reason);

    [LoggerMessage(EventId = 1408, Level = LogLevel.Error, Message = "tenant {Tenant} mailbox {Mailbox} message {Message}: delivered and recorded, but the copy cannot be deleted ({Reason}); it will not be sent again, and the next scan tries the deletion again")]
    private static partial void LogNotDeleted(ILogger logger, string tenant, string mailbox, string message, string reason);

    [LoggerMessage(EventId = 1409, Level = LogLevel.Information, Message = "tenant {Tenant}: waiting for a hand-over connection: {InUse} of the node's {Limit} (controller.maxConnections) are open, {Waiting} waiting")]
    private static partial void LogWaitingForSlot(ILogger logger, string tenant, int inUse, int limit, int waiting);

    [LoggerMessage(EventId = 1407, Level = LogLevel.Error, Message = "tenant {Tenant}: the journal failed to record part of this hand-over: {Reason}")]
    private static partial void LogJournalFailed(ILogger logger, string tenant, string reason);
}
