using System.Globalization;
using System.Threading.Channels;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Respaldo.Configuration;
using Respaldo.Events;
using Respaldo.Primary;

namespace Respaldo.Drills;

/// <summary>What a drill needs from the running controller.</summary>
/// <param name="PrimaryStatus">The controller's view of the tenant's primary now (the hysteresis verdict).</param>
public sealed record DrillContext(RespaldoSettings Settings, Tenant Tenant, DrillTickets Tickets, ControllerEvents Events, Func<PrimaryStatus> PrimaryStatus, TimeProvider Time);

/// <summary>
/// One fire drill of one tenant, from the outside in: a message sent by SMTP into the backup's
/// own intake (listen.smtp, Postfix on port 25, with postscreen, the policy service and rspamd)
/// for the tenant's drill address, stored by Dovecot, seen by the watcher, handed over by the
/// tenant's loop like any message, and confirmed by the primary's 250. Nothing here takes a
/// shortcut: the drill only watches the controller's events (<see cref="MessageArrived"/>,
/// <see cref="MessageSettled"/>) for its own file, known by its <c>X-Respaldo-Drill</c> header.
/// </summary>
public sealed class FireDrill(DrillContext context)
{
    private static readonly TimeSpan SmtpTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Look = TimeSpan.FromSeconds(1);

    private sealed record Arrival(DateTimeOffset Seen, string Mailbox, string BaseName, string? DrillId, DateTimeOffset? Stored);

    public async Task<DrillResult> RunAsync(CancellationToken cancellationToken)
    {
        Tenant tenant = context.Tenant;
        DrillSettings drill = tenant.Drill ?? throw new InvalidOperationException($"tenant {tenant.Id} has no drill address (tenants[].drill.address)");
        DateTimeOffset started = context.Time.GetUtcNow();
        DrillTicket ticket = context.Tickets.Issue(tenant.Id, drill.Address, context.Settings.Hostname, started);
        DrillResult Result(DrillOutcome outcome, string step, string reason, DateTimeOffset? accepted = null, Arrival? arrival = null, DateTimeOffset? handedOver = null) =>
            new(ticket.Id, tenant.Id, drill.Address, started, outcome, step, reason, accepted, arrival?.Stored, arrival?.Seen, handedOver, arrival?.BaseName);

        var inbox = Channel.CreateUnbounded<object>();
        void Listen(ControllerEvent e)
        {
            if (e.TenantId != tenant.Id)
            {
                return;
            }
            if (e is MessageArrived arrived && arrived.Message.Mailbox == drill.Address)
            {
                // Note: read here, on the watcher's path, and only for the drill's mailbox: the
                // hand-over may deliver and delete the file before the drill reads its queue.
                string path = arrived.Message.Path;
                DateTimeOffset? stored = File.Exists(path) ? new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero) : null;
                inbox.Writer.TryWrite(new Arrival(e.At, arrived.Message.Mailbox, arrived.Message.BaseName, DrillMessage.ReadId(path), stored));
            }
            else if (e is MessageSettled settled && settled.Mailbox == drill.Address)
            {
                inbox.Writer.TryWrite(settled);
            }
        }
        context.Events.Raised += Listen;
        try
        {
            // 1. In through the front door.
            DateTimeOffset accepted;
            string? refused = await SendAsync(ticket, cancellationToken);
            if (refused is not null)
            {
                context.Tickets.Withdraw(ticket.Id);
                return Result(DrillOutcome.Failed, "intake", refused);
            }
            accepted = context.Time.GetUtcNow();

            // 2. Stored by Dovecot and seen by the watcher.
            Arrival? arrival = null;
            DateTimeOffset deadline = accepted + drill.Timeout;
            while (arrival is null)
            {
                object? next = await NextAsync(inbox.Reader, deadline, cancellationToken);
                if (next is null)
                {
                    return Result(DrillOutcome.Failed, "store", string.Create(CultureInfo.InvariantCulture,
                        $"the backup took it (250) but the watcher did not see it in {drill.Address} within {drill.Timeout.TotalSeconds:0} s"), accepted);
                }
                if (next is Arrival a && a.DrillId == ticket.Id)
                {
                    arrival = a;
                }
            }

            // 3. Handed over: the primary's 250, or why not.
            deadline = context.Time.GetUtcNow() + drill.Timeout;
            while (true)
            {
                if (context.PrimaryStatus() == PrimaryStatus.Down)
                {
                    return Result(DrillOutcome.Failed, "primary-down",
                        "primary down: the drill's message waits at the backup and is handed over when the primary is back, like any other", accepted, arrival);
                }
                object? next = await NextAsync(inbox.Reader, Min(deadline, context.Time.GetUtcNow() + Look), cancellationToken);
                if (next is MessageSettled s && s.BaseName == arrival.BaseName)
                {
                    string reply = s.Code is { } code ? $"{code.ToString(CultureInfo.InvariantCulture)} {s.Reply}" : s.Reply;
                    return s.Outcome switch
                    {
                        "delivered" => Result(DrillOutcome.Passed, "", $"handed over: {reply}", accepted, arrival, s.At),
                        "held" => Result(DrillOutcome.Failed, "primary", $"the primary refused it: {reply} (the message is held)", accepted, arrival),
                        _ => Result(DrillOutcome.Failed, "primary", $"the primary deferred it: {reply}", accepted, arrival),
                    };
                }
                if (next is null && context.Time.GetUtcNow() >= deadline)
                {
                    return Result(DrillOutcome.Failed, "hand-over", string.Create(CultureInfo.InvariantCulture,
                        $"not handed over within {drill.Timeout.TotalSeconds:0} s; the message waits at the backup"), accepted, arrival);
                }
            }
        }
        finally
        {
            context.Events.Raised -= Listen;
        }
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    /// <summary>The next event, or null when <paramref name="until"/> passed first.</summary>
    private async Task<object?> NextAsync(ChannelReader<object> reader, DateTimeOffset until, CancellationToken cancellationToken)
    {
        if (reader.TryRead(out object? ready))
        {
            return ready;
        }
        TimeSpan wait = until - context.Time.GetUtcNow();
        if (wait <= TimeSpan.Zero)
        {
            return null;
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(wait);
        try
        {
            return await reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Sends the drill into the intake; null when it answered 250 to the data, else what went wrong.</summary>
    private async Task<string?> SendAsync(DrillTicket ticket, CancellationToken cancellationToken)
    {
        RespaldoSettings s = context.Settings;
        HostPort intake = Intake(s);
        MimeMessage message = DrillMessage.Create(s, context.Tenant, ticket, context.Time.GetUtcNow());
        using var client = new SmtpClient { Timeout = (int)SmtpTimeout.TotalMilliseconds, LocalDomain = s.Hostname };
        try
        {
            // Note: plain SMTP on the server's own intake: what is checked is the path, and the
            // certificate is the set-up check's business (backup-certificate).
            await client.ConnectAsync(intake.Host, intake.Port, SecureSocketOptions.None, cancellationToken);
            await client.SendAsync(message, MailboxAddress.Parse(ticket.Sender), [MailboxAddress.Parse(ticket.Recipient)], cancellationToken);
            await client.DisconnectAsync(quit: true, cancellationToken);
            return null;
        }
        catch (SmtpCommandException e)
        {
            return string.Create(CultureInfo.InvariantCulture, $"the backup's intake {intake} refused it: {(int)e.StatusCode} {e.Message}");
        }
        catch (Exception e) when (e is SmtpProtocolException or IOException or System.Net.Sockets.SocketException or TimeoutException)
        {
            return $"the backup's intake {intake} could not be reached or broke off: {e.Message}";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Note: MailKit's own timeout (SmtpClient.Timeout) surfaces as a cancellation.
            return string.Create(CultureInfo.InvariantCulture, $"the backup's intake {intake} did not answer within {SmtpTimeout.TotalSeconds:0} s");
        }
    }

    /// <summary>The first listen.smtp endpoint, a wildcard turned into the loopback.</summary>
    public static HostPort Intake(RespaldoSettings settings)
    {
        HostPort first = settings.Listen.Smtp[0];
        return first.Host switch
        {
            "*" or "0.0.0.0" or "" => first with { Host = "127.0.0.1" },
            "::" or "[::]" => first with { Host = "::1" },
            _ => first,
        };
    }
}
