using Respaldo.Configuration;
using Respaldo.Smtp;

namespace Respaldo.Primary;

/// <summary>
/// Step 2's answer: would the primary take a message right now? "Up" means greeting 220,
/// EHLO, STARTTLS where the tenant requires it and, when a probe recipient is configured,
/// MAIL FROM and RCPT TO accepted. Anything else is "down", with the stage and reply.
/// </summary>
public sealed record ProbeResult(
    DateTimeOffset At,
    string TenantId,
    HostPort Host,
    bool Up,
    SmtpStage Stage,
    SmtpReply? Reply,
    string Reason,
    TimeSpan Latency,
    SmtpCapabilities Capabilities,
    bool Tls);
