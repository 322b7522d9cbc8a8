using System.Collections.Concurrent;
using Respaldo.Configuration;
using Respaldo.Smtp;

namespace Respaldo.Policy;

public enum CalloutOutcome
{
    /// <summary>The primary answered 250/251 to RCPT TO.</summary>
    Valid,
    /// <summary>The primary refused the recipient for good (5xx at RCPT TO).</summary>
    Invalid,
    /// <summary>No verdict: unreachable, 4xx, the sender refused, too many callouts at once.</summary>
    Unverified,
}

public sealed record CalloutResult(CalloutOutcome Outcome, SmtpReply? Reply, string Reason);

/// <summary>
/// Asks the primary whether it would take mail for an address, the way Postfix's address
/// verification does (ADDRESS_VERIFICATION_README): connect, EHLO, STARTTLS per the tenant's
/// policy, MAIL FROM (the probe sender, null by default), RCPT TO, then RSET and QUIT — never
/// DATA, so nothing is ever delivered. Concurrent questions about one address share one callout,
/// and at most a few callouts run at once, so a dictionary attack on the backup cannot turn it
/// into a flood against the primary.
/// </summary>
public sealed class RecipientCallout : IDisposable
{
    private const int MaxConcurrent = 8;

    private readonly ConcurrentDictionary<string, Lazy<Task<CalloutResult>>> _inFlight = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _slots = new(MaxConcurrent, MaxConcurrent);

    public Task<CalloutResult> VerifyAsync(string heloName, Tenant tenant, string address, TimeSpan timeout)
    {
        string key = tenant.Id + "\n" + address;
        Lazy<Task<CalloutResult>> run = _inFlight.GetOrAdd(key, _ => new Lazy<Task<CalloutResult>>(async () =>
        {
            try
            {
                return await RunAsync(heloName, tenant, address, timeout);
            }
            finally
            {
                _inFlight.TryRemove(key, out Lazy<Task<CalloutResult>>? _);
            }
        }));
        return run.Value;
    }

    private async Task<CalloutResult> RunAsync(string heloName, Tenant tenant, string address, TimeSpan timeout)
    {
        if (!await _slots.WaitAsync(timeout))
        {
            return new CalloutResult(CalloutOutcome.Unverified, null, $"more than {MaxConcurrent} callouts at once");
        }
        // Note: every stage has its own timeout; this caps the whole conversation, well under
        // Postfix's smtpd_policy_service_timeout (100 s), which waits for our answer.
        using var total = new CancellationTokenSource(timeout * 3);
        try
        {
            string reason = "no primary host";
            foreach (HostPort host in tenant.Primary.Hosts)
            {
                try
                {
                    return await AskAsync(host, heloName, tenant, address, timeout, total.Token);
                }
                catch (SmtpSessionException e)
                {
                    reason = $"{host}: {e.Message}";
                }
            }
            return new CalloutResult(CalloutOutcome.Unverified, null, reason);
        }
        catch (OperationCanceledException) when (total.IsCancellationRequested)
        {
            return new CalloutResult(CalloutOutcome.Unverified, null, $"no verdict within {(timeout * 3).TotalSeconds:0.#} s");
        }
        finally
        {
            _slots.Release();
        }
    }

    public void Dispose() => _slots.Dispose();

    private static async Task<CalloutResult> AskAsync(
        HostPort host, string heloName, Tenant tenant, string address, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await using SmtpConnection connection = await SmtpConnection.OpenAsync(host, heloName, tenant.Primary.Tls, timeout, cancellationToken);
        SmtpReply mail = await connection.CommandAsync(SmtpStage.MailFrom, $"MAIL FROM:<{tenant.Primary.ProbeSender}>", cancellationToken);
        if (!mail.IsOk)
        {
            // Note: a refused sender says nothing about the recipient: no verdict, nothing cached.
            await connection.QuitAsync(cancellationToken);
            return new CalloutResult(CalloutOutcome.Unverified, mail, $"MAIL FROM refused: {mail.OneLine}");
        }
        SmtpReply rcpt = await connection.CommandAsync(SmtpStage.RcptTo, $"RCPT TO:<{address}>", cancellationToken);
        await connection.CommandAsync(SmtpStage.Reset, "RSET", cancellationToken);
        await connection.QuitAsync(cancellationToken);
        CalloutOutcome outcome = rcpt.IsRecipientAccepted ? CalloutOutcome.Valid
            : rcpt.IsPermanent ? CalloutOutcome.Invalid
            : CalloutOutcome.Unverified;
        return new CalloutResult(outcome, rcpt, rcpt.OneLine);
    }
}
