namespace Respaldo.Border;

/// <summary>Why the border refused or deferred a message; each value is a label on /metrics.</summary>
public enum RefusalReason
{
    /// <summary>rspamd's score (or GTUBE) condemned the message.</summary>
    Spam,
    /// <summary>The sender domain's DMARC policy is p=reject and the message failed it.</summary>
    Dmarc,
    /// <summary>SPF failed and the tenant's policy refuses that.</summary>
    Spf,
    /// <summary>The client's address is on a DNS block list (postscreen or rspamd).</summary>
    Dnsbl,
    /// <summary>The client talked before its turn (postscreen's pregreet test).</summary>
    Pregreet,
    /// <summary>An antivirus scanner found a virus (when one is configured).</summary>
    Virus,
    /// <summary>A DNS lookup of the checks failed for now: the sender retries.</summary>
    DnsTemporary,
    /// <summary>rspamd did not answer: Postfix defers (milter_default_action = tempfail).</summary>
    FilterUnavailable,
}

/// <summary>A refusal (5xx) or deferral (4xx) decided at the border, as Postfix logged it.</summary>
public sealed record IntakeVerdict(
    DateTimeOffset At,
    RefusalReason Reason,
    bool Permanent,
    string Code,
    string? Recipient,
    string? Sender,
    string? Client)
{
    /// <summary>The recipient's domain (lower case), by which the verdict is counted for a tenant; null when none was given yet.</summary>
    public string? RecipientDomain =>
        Recipient is { } r && r.LastIndexOf('@') is var at and > 0 ? r[(at + 1)..].ToLowerInvariant() : null;
}

public static class RefusalReasons
{
    /// <summary>The label on /metrics and in the journal: stable, lower case.</summary>
    public static string Label(this RefusalReason reason) => reason switch
    {
        RefusalReason.Spam => "spam",
        RefusalReason.Dmarc => "dmarc",
        RefusalReason.Spf => "spf",
        RefusalReason.Dnsbl => "dnsbl",
        RefusalReason.Pregreet => "pregreet",
        RefusalReason.Virus => "virus",
        RefusalReason.DnsTemporary => "dnstemp",
        RefusalReason.FilterUnavailable => "filter-unavailable",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };

    public static RefusalReason? FromLabel(string label) =>
        Enum.GetValues<RefusalReason>().Cast<RefusalReason?>().FirstOrDefault(r => r!.Value.Label() == label);

    /// <summary>Every reason, in the order the dashboard lists them.</summary>
    public static IReadOnlyList<RefusalReason> All { get; } = Enum.GetValues<RefusalReason>();
}
