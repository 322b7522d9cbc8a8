using System.Text;
using MimeKit;
using Respaldo.Bounces;

namespace Respaldo.Tests.Bounces;

public sealed class DeliveryStatusNotificationTests
{
    private static readonly DateTimeOffset Arrived = new(2026, 11, 27, 10, 42, 0, TimeSpan.Zero);

    private static BounceReport Report(string sender = "ana@example.org", int? code = 550, string reason = "5.1.1 <ventas@suempresa.es>: Recipient address rejected: User unknown") =>
        new(sender, "ventas@suempresa.es", "mail-backup.suempresa.es", "mail.suempresa.es", code, reason, Arrived, Arrived.AddHours(2));

    private static readonly byte[] Stored = Encoding.ASCII.GetBytes(
        "Return-Path: <ana@example.org>\n" +
        "Delivered-To: ventas@suempresa.es\n" +
        "Received: from mail-backup.suempresa.es\n\tby mail-backup.suempresa.es with LMTP id x\n\tfor <ventas@suempresa.es>; Fri, 27 Nov 2026 10:42:00 +0000\n" +
        "Received: from client.example.org by mail-backup.suempresa.es (Postfix) with ESMTP id ABC\n" +
        "From: Ana <ana@example.org>\nTo: ventas@suempresa.es\nSubject: Pedido 42\nMessage-ID: <42@example.org>\n" +
        "\nCuerpo privado que no se devuelve.\n");

    private static MimeMessage Reparse(MimeMessage message)
    {
        using var stream = new MemoryStream();
        message.WriteTo(stream);
        stream.Position = 0;
        return MimeMessage.Load(stream);
    }

    [Fact]
    public void IsAMultipartReportToTheSenderFromTheMailerDaemon()
    {
        MimeMessage dsn = Reparse(DeliveryStatusNotification.Build(Report(), Stored)!);

        Assert.Equal("ana@example.org", dsn.To.Mailboxes.Single().Address);
        Assert.Equal("MAILER-DAEMON@mail-backup.suempresa.es", dsn.From.Mailboxes.Single().Address);
        Assert.Equal("auto-replied", dsn.Headers["Auto-Submitted"]);
        var report = Assert.IsType<MultipartReport>(dsn.Body);
        Assert.Equal("delivery-status", report.ReportType);
        Assert.Equal(3, report.Count);
        Assert.Equal("text/plain", report[0].ContentType.MimeType);
        Assert.Equal("message/delivery-status", report[1].ContentType.MimeType);
        Assert.Equal("text/rfc822-headers", report[2].ContentType.MimeType);
        Assert.Contains("<ventas@suempresa.es>", ((TextPart)report[0]).Text!, StringComparison.Ordinal);
    }

    [Fact]
    public void StatesTheRecipientTheActionTheStatusAndThePrimarysReply()
    {
        MimeMessage dsn = Reparse(DeliveryStatusNotification.Build(Report(), Stored)!);
        var status = Assert.IsType<MessageDeliveryStatus>(((MultipartReport)dsn.Body!)[1]);

        // Note: MimeKit's parser reads the blank line before the boundary as an empty third group.
        List<HeaderList> groups = status.StatusGroups.Where(g => g.Count > 0).ToList();
        Assert.Equal(2, groups.Count);
        Assert.Equal("dns; mail-backup.suempresa.es", groups[0]["Reporting-MTA"]);
        HeaderList recipient = groups[1];
        Assert.Equal("rfc822; ventas@suempresa.es", recipient["Final-Recipient"]);
        Assert.Equal("failed", recipient["Action"]);
        Assert.Equal("5.1.1", recipient["Status"]);
        Assert.Equal("dns; mail.suempresa.es", recipient["Remote-MTA"]);
        Assert.StartsWith("smtp; 550 5.1.1 <ventas@suempresa.es>", recipient["Diagnostic-Code"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(554, "5.7.1 Message rejected by policy", "5.7.1")]
    [InlineData(552, "Message size exceeds fixed limit", "5.3.4")]
    [InlineData(553, "Sorry, no such mailbox", "5.1.1")]
    [InlineData(554, "Transaction failed", "5.0.0")]
    [InlineData(null, "a line is longer than 998 octets (RFC 5322 §2.1.1)", "5.0.0")]
    public void TakesTheEnhancedStatusFromTheReplyOrDerivesItFromTheCode(int? code, string reason, string expected) =>
        Assert.Equal(expected, DeliveryStatusNotification.StatusOf(code, reason));

    [Fact]
    public void QuotesTheOriginalHeadersButNotTheBodyNorOurOwnTraceHeaders()
    {
        MimeMessage dsn = Reparse(DeliveryStatusNotification.Build(Report(), Stored)!);
        var headers = Assert.IsType<TextRfc822Headers>(((MultipartReport)dsn.Body!)[2]);
        string quoted = string.Concat(headers.Message!.Headers.Select(h => h.ToString() + "\n")) + headers.Message.TextBody;

        Assert.Contains("Subject: Pedido 42\n", quoted, StringComparison.Ordinal);
        Assert.Contains("(Postfix) with ESMTP id ABC", quoted, StringComparison.Ordinal);
        Assert.DoesNotContain("Delivered-To:", quoted, StringComparison.Ordinal);
        Assert.DoesNotContain("with LMTP", quoted, StringComparison.Ordinal);
        Assert.DoesNotContain("Cuerpo privado", quoted, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("<>")]
    public void NeverNotifiesTheNullSender(string sender) =>
        Assert.Null(DeliveryStatusNotification.Build(Report(sender), Stored));
}
