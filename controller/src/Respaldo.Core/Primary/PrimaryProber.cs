using System.Diagnostics;
using Respaldo.Configuration;
using Respaldo.Smtp;

namespace Respaldo.Primary;

/// <summary>
/// Probes a tenant's primary with a real SMTP conversation: connect, greeting, EHLO,
/// STARTTLS per policy, optionally MAIL FROM/RCPT TO for a known address, then RSET and QUIT.
/// It never sends DATA: a probe never delivers anything.
/// </summary>
public sealed class PrimaryProber(string heloName, TimeSpan timeout, TimeProvider time)
{
    /// <summary>Probes each host in turn (as MX preference would) and returns the first "up", else the last "down".</summary>
    public async Task<IReadOnlyList<ProbeResult>> ProbeAsync(Tenant tenant, CancellationToken cancellationToken)
    {
        var results = new List<ProbeResult>();
        foreach (HostPort host in tenant.Primary.Hosts)
        {
            ProbeResult r = await ProbeHostAsync(tenant, host, cancellationToken);
            results.Add(r);
            if (r.Up)
            {
                break;
            }
        }
        return results;
    }

    public async Task<ProbeResult> ProbeHostAsync(Tenant tenant, HostPort host, CancellationToken cancellationToken)
    {
        DateTimeOffset at = time.GetUtcNow();
        var clock = Stopwatch.StartNew();
        SmtpConnection? connection = null;
        try
        {
            connection = await SmtpConnection.OpenAsync(host, heloName, tenant.Primary.Tls, timeout, cancellationToken);
            SmtpReply last = connection.Greeting;
            if (tenant.Primary.ProbeRecipient is { } recipient)
            {
                // Note: the same callout Postfix's address verification makes: a real MAIL/RCPT,
                // then RSET, so nothing is ever queued at the primary.
                SmtpReply mail = await connection.CommandAsync(SmtpStage.MailFrom, $"MAIL FROM:<{tenant.Primary.ProbeSender}>", cancellationToken);
                if (!mail.IsOk)
                {
                    return Down(SmtpStage.MailFrom, mail, $"MAIL FROM refused: {mail.OneLine}");
                }
                SmtpReply rcpt = await connection.CommandAsync(SmtpStage.RcptTo, $"RCPT TO:<{recipient}>", cancellationToken);
                if (!rcpt.IsRecipientAccepted)
                {
                    return Down(SmtpStage.RcptTo, rcpt, $"RCPT TO:<{recipient}> refused: {rcpt.OneLine}");
                }
                last = await connection.CommandAsync(SmtpStage.Reset, "RSET", cancellationToken);
            }
            await connection.QuitAsync(cancellationToken);
            return new ProbeResult(at, tenant.Id, host, true, SmtpStage.Quit, last, "accepts mail", clock.Elapsed,
                connection.Capabilities, connection.IsEncrypted);
        }
        catch (SmtpSessionException e)
        {
            return Down(e.Stage, e.Reply, e.Message);
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }

        ProbeResult Down(SmtpStage stage, SmtpReply? reply, string reason) =>
            new(at, tenant.Id, host, false, stage, reply, reason, clock.Elapsed,
                connection?.Capabilities ?? SmtpCapabilities.None, connection?.IsEncrypted ?? false);
    }
}
