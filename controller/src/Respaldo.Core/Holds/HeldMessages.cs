using Respaldo.Journaling;
using Respaldo.Bounces;
using Respaldo.Configuration;
using Respaldo.Mailboxes;

namespace Respaldo.Holds;

/// <summary>What became of a release or a bounce.</summary>
public enum HoldDecision
{
    Released,
    Bounced,
    /// <summary>Bounced without a notification: the message had the null sender (RFC 3464 §2).</summary>
    BouncedSilently,
}

/// <summary>What a bounce did: the decision, whom it told (null: nobody), and what the border had found about that sender.</summary>
public sealed record BounceOutcome(HoldDecision Decision, string? Notified, SenderVerdict Verdict);

/// <summary>A hold id the journal does not know, or one already released or bounced.</summary>
public sealed class NotHeldException : Exception
{
    public NotHeldException() { }

    public NotHeldException(string message) : base(message) { }

    public NotHeldException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// The admin's decisions about held messages (respaldoctl release/bounce, the dashboard's
/// retry/bounce): release puts the file back into its mailbox's new/ for another hand-over;
/// bounce tells the sender with a DSN and then keeps the file aside in STATE/bounced/. The journal row changes only
/// after the file has moved, so a crash in between leaves a message that is still findable.
/// </summary>
public sealed class HeldMessages(Journal journal, Func<RespaldoSettings> settings, IBounceSender bounces, TimeProvider time)
{
    /// <summary>One decision about held messages at a time, whoever takes it (control bus, dashboard).</summary>
    internal static readonly SemaphoreSlim OneDecisionAtATime = new(1, 1);

    /// <summary>Messages held now, oldest first; <paramref name="tenantId"/> null or "" for all tenants.</summary>
    public IReadOnlyList<HoldRow> List(string? tenantId) => journal.HeldOldestFirst(string.IsNullOrEmpty(tenantId) ? null : tenantId);

    /// <summary>A message held now, by its id (however old).</summary>
    public HoldRow? Find(long id) => journal.Hold(id) is { State: "held" } h ? h : null;

    /// <summary>Moves the held file back into its mailbox (new/); the watcher picks it up and the next hand-over sends it.</summary>
    public async Task<string> ReleaseAsync(long id, CancellationToken cancellationToken)
    {
        await OneDecisionAtATime.WaitAsync(cancellationToken);
        try
        {
            HoldRow held = Find(id) ?? throw new NotHeldException($"no held message with id {id}");
            if (!File.Exists(held.Path))
            {
                throw new NotHeldException($"held message {id} is no longer at {held.Path}");
            }
            string maildir = MaildirLayout.MaildirOf(settings().MaildirRoot, held.Mailbox);
            string path = HoldArea.Release(held.Path, maildir);
            await journal.ResolveHoldAsync(id, "released");
            return path;
        }
        finally
        {
            OneDecisionAtATime.Release();
        }
    }

    /// <summary>
    /// What the backup's border found about the sender a bounce of this held file would notify
    /// (<see cref="SenderCheck"/>); a null sender is never notified, so it counts as aligned.
    /// </summary>
    public async Task<SenderVerdict> SenderVerdictAsync(string path, string? sender, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(sender))
        {
            return SenderVerdict.Aligned;
        }
        byte[] head = await ReadHeadAsync(path, cancellationToken);
        return Verdict(head, sender);
    }

    private SenderVerdict Verdict(byte[] head, string? sender)
    {
        if (string.IsNullOrEmpty(sender))
        {
            return SenderVerdict.Aligned;
        }
        using var stream = new MemoryStream(head);
        MimeKit.HeaderList headers;
        try
        {
            headers = MimeKit.HeaderList.Load(stream);
        }
        catch (FormatException)
        {
            return SenderVerdict.NotChecked;
        }
        return SenderCheck.Of(headers, settings().Hostname, sender);
    }

    /// <summary>
    /// Sends the sender a DSN through the local Postfix, then moves the held file aside and marks it
    /// bounced. When the DSN cannot be sent, nothing changes (the message stays held). Says
    /// whom it told (null for a null-sender message, bounced without a notification).
    /// </summary>
    /// <param name="byAdmin">
    /// A provider admin (web.admins, root or respaldo-admin on the control bus) may bounce to any
    /// sender; a tenant's user only to one the border found aligned, since a DSN to a forged
    /// sender is backscatter (<see cref="BounceRefusedException"/>; the message stays held).
    /// </param>
    public async Task<BounceOutcome> BounceAsync(long id, bool byAdmin, CancellationToken cancellationToken)
    {
        await OneDecisionAtATime.WaitAsync(cancellationToken);
        try
        {
            HoldRow held = Find(id) ?? throw new NotHeldException($"no held message with id {id}");
            if (!File.Exists(held.Path))
            {
                throw new NotHeldException($"held message {id} is no longer at {held.Path}");
            }
            byte[] head = await ReadHeadAsync(held.Path, cancellationToken);
            SenderVerdict verdict = Verdict(head, held.Sender);
            if (!SenderCheck.MayBounce(verdict, byAdmin))
            {
                throw new BounceRefusedException(
                    $"held message {id}: the backup's border did not find its sender {held.Sender} authentic (SPF or DKIM aligned); only an admin may bounce it");
            }
            DateTimeOffset arrived = File.GetLastWriteTimeUtc(held.Path);
            var report = new BounceReport(held.Sender ?? "", held.Recipient ?? held.Mailbox, settings().Hostname,
                settings().Tenants.FirstOrDefault(t => t.Id == held.TenantId)?.Primary.Hosts is { Count: > 0 } hosts ? hosts[0].Host : null, held.Code, held.Reason,
                arrived, time.GetUtcNow());
            MimeKit.MimeMessage? dsn = DeliveryStatusNotification.Build(report, head);
            if (dsn is not null)
            {
                await bounces.SendAsync(report.Sender, dsn, cancellationToken);
            }
            // Note: the DSN is queued at the local Postfix before the copy moves; a crash here
            // leaves the message held (the admin may bounce twice), never gone untold. The copy
            // is kept aside (STATE/bounced/), not deleted: a mistaken bounce can be undone.
            string aside = System.IO.Path.Combine(settings().StateDirectory, "bounced", held.TenantId, held.Mailbox);
            Directory.CreateDirectory(aside);
            File.Move(held.Path, System.IO.Path.Combine(aside, System.IO.Path.GetFileName(held.Path)), overwrite: false);
            Storage.AtomicFile.SyncDirectory(aside);
            Storage.AtomicFile.SyncDirectory(System.IO.Path.GetDirectoryName(held.Path)!);
            await journal.ResolveHoldAsync(id, "bounced");
            return new BounceOutcome(dsn is null ? HoldDecision.BouncedSilently : HoldDecision.Bounced, dsn is null ? null : report.Sender, verdict);
        }
        finally
        {
            OneDecisionAtATime.Release();
        }
    }

    private static async Task<byte[]> ReadHeadAsync(string path, CancellationToken cancellationToken)
    {
        // Note: the header section of a message is at most a few hundred kilobytes in practice;
        // the DSN quotes headers only.
        const int Limit = 256 * 1024;
        await using FileStream stream = File.OpenRead(path);
        byte[] buffer = new byte[Math.Min(Limit, stream.Length)];
        int read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
        return buffer[..read];
    }
}
