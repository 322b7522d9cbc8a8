using System.Collections.Concurrent;
using System.Net.Sockets;
using Respaldo.Tests.Smtp;

namespace Respaldo.Tests.ChaosLab;

/// <summary>
/// Sends messages to the backup over several connections the way an MTA on the Internet would:
/// a 4xx (the controller is down and Postfix's policy check says 451, the disk is full, ...) or
/// a broken connection means "try again shortly"; a 5xx is a refusal for good. Records what
/// became of each message.
/// </summary>
public sealed class IntakeSender(string host, int port, int connections)
{
    private readonly ConcurrentDictionary<string, SmtpTransaction> _outcomes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _hashes = new(StringComparer.Ordinal);
    private int _transient;
    private int _broken;
    private int _done;
    private long _acceptedBytes;

    /// <summary>The final answer per message name: accepted, or the permanent refusal.</summary>
    public IReadOnlyDictionary<string, SmtpTransaction> Outcomes => _outcomes;

    /// <summary>The content hash of what was sent (<see cref="StoredCopies.HashOfSent"/>), per message name.</summary>
    public IReadOnlyDictionary<string, string> SentHashes => _hashes;

    /// <summary>4xx answers that were retried.</summary>
    public int TransientRefusals => _transient;

    /// <summary>Connections that broke or timed out mid-transaction (retried on a new one).</summary>
    public int BrokenConnections => _broken;

    public int Done => _done;

    public long AcceptedBytes => _acceptedBytes;

    /// <summary>Give up retrying a message after this long (a test that hangs says which).</summary>
    public TimeSpan GiveUpAfter { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The wait before retrying a message that got a 4xx.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(300);

    public async Task SendAsync(IReadOnlyList<OutgoingMail> mails, CancellationToken cancellationToken = default)
    {
        var queue = new ConcurrentQueue<OutgoingMail>(mails);
        await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => Task.Run(() => WorkAsync(queue, cancellationToken), cancellationToken)));
    }

    private async Task WorkAsync(ConcurrentQueue<OutgoingMail> queue, CancellationToken cancellationToken)
    {
        ExactSmtpClient? client = null;
        try
        {
            while (queue.TryDequeue(out OutgoingMail? mail))
            {
                byte[] content = mail.Content();
                _hashes[mail.Name] = StoredCopies.HashOfSent(content);
                SmtpTransaction result = await new SmtpRetry { Delay = RetryDelay, GiveUpAfter = GiveUpAfter }.SendAsync<SmtpTransaction?>(
                    async _ =>
                    {
                        try
                        {
                            client ??= await ExactSmtpClient.ConnectAsync(host, port, "sender.example.org");
                            if (!client.Ready)
                            {
                                throw new IOException($"greeting: {client.Greeting}");
                            }
                            return await client.SendAsync(mail.Sender, mail.RecipientBytes, mail.Parameters, content);
                        }
                        catch (Exception e) when (e is IOException or SocketException or TimeoutException)
                        {
                            // A broken connection: again, on a new one.
                            Interlocked.Increment(ref _broken);
                            client = await DropAsync(client);
                            return null;
                        }
                    },
                    again: r => r is null || (!r.Accepted && (r.Last.IsTransient || r.Last.Code == 0)),
                    beforeRetry: async (_, r) =>
                    {
                        if (r is null)
                        {
                            return;
                        }
                        _outcomes[mail.Name] = r;
                        Interlocked.Increment(ref _transient);
                        if (r.Last.Code is 421 or 0)
                        {
                            client = await DropAsync(client);
                        }
                    },
                    what: mail.Name,
                    cancellationToken) ?? throw new InvalidOperationException($"{mail.Name}: no answer");
                _outcomes[mail.Name] = result;
                if (result.Accepted)
                {
                    Interlocked.Add(ref _acceptedBytes, content.Length);
                }
                Interlocked.Increment(ref _done);
            }
        }
        finally
        {
            await DropAsync(client);
        }
    }

    private static async Task<ExactSmtpClient?> DropAsync(ExactSmtpClient? client)
    {
        if (client is not null)
        {
            await client.DisposeAsync();
        }
        return null;
    }
}
