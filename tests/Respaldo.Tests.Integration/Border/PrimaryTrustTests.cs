using System.Text;
using Respaldo.Tests.Lab;
using Respaldo.Tests.Smtp;
using Xunit.Abstractions;

namespace Respaldo.Tests.Border;

/// <summary>
/// The lab with a primary that filters as a company's own server would: its own rspamd as
/// Postfix's milter (LAB_PRIMARY_FILTER=on), refusing SPF fail and DMARC p=reject failures,
/// trusting the backup only by its ARC seal and as an SPF external relay, never by relay
/// rights. The backup's border is on too (LAB_FILTER=on), so the backup seals what it
/// accepts. The sender domain remitente.test publishes <c>v=spf1 ip4:127.0.0.10 -all</c>
/// and <c>p=reject</c>.
/// </summary>
public sealed class PrimaryTrustLabFixture : LabFixture
{
    public const string SenderDomain = "remitente.test";

    /// <summary>The only address SPF allows for <see cref="SenderDomain"/>.</summary>
    public const string SenderAddress = "127.0.0.10";

    public PrimaryTrustLabFixture()
        : base("primarytrust", new Dictionary<string, string> { ["LAB_FILTER"] = "on", ["LAB_PRIMARY_FILTER"] = "on" }, configured: false)
    {
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync().ConfigureAwait(false);
        string zone = $"""
            $ORIGIN {SenderDomain}.
            $TTL 60
            @       IN SOA ns.lab.test. hostmaster.lab.test. 1 60 60 600 60
            @       IN NS  ns.lab.test.
            @       IN TXT "v=spf1 ip4:{SenderAddress} -all"
            _dmarc  IN TXT "v=DMARC1; p=reject"

            """;
        await File.WriteAllTextAsync(Path.Combine(this["DNS_ZONES"], SenderDomain + ".zone"), zone).ConfigureAwait(false);
        await RunLabAsync("dns-reload").ConfigureAwait(false);
    }
}

[CollectionDefinition(Name)]
public sealed class PrimaryTrustLabCollection : ICollectionFixture<PrimaryTrustLabFixture>
{
    public const string Name = "primary trust lab";
}

[Collection(PrimaryTrustLabCollection.Name)]
public sealed class PrimaryTrustTests(PrimaryTrustLabFixture lab, ITestOutputHelper output)
{
    private const string Recipient = "info@suempresa.test";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task ThePrimarysRspamdAcceptsTheHandOverOnTheBackupsArcSealAndSpf()
    {
        string id = $"trust-{Guid.NewGuid():N}@{PrimaryTrustLabFixture.SenderDomain}";
        await lab.RunLabAsync("primary-down");
        try
        {
            SmtpReply sent = await SendRetryingAsync(lab.BackupSmtp, PrimaryTrustLabFixture.SenderAddress, id);
            Assert.True(sent.Code == 250, $"backup: {sent.Text}");

            byte[] stored = await WaitForMessageAsync(() => lab.BackupMessages(Recipient), id, "stored at the backup");
            string results = StoredMail.Header(stored, "Authentication-Results") ?? "";
            output.WriteLine($"at the backup: Authentication-Results: {results}");
            Assert.StartsWith("mail-backup.suempresa.test;", results, StringComparison.Ordinal);
            Assert.Contains("spf=pass", results, StringComparison.Ordinal);
            Assert.Contains("dmarc=pass", results, StringComparison.Ordinal);
            Assert.Contains("d=mail-backup.suempresa.test", StoredMail.Header(stored, "ARC-Seal") ?? "", StringComparison.Ordinal);
        }
        finally
        {
            await lab.RunLabAsync("primary-up");
        }

        byte[] delivered = await WaitForMessageAsync(() => lab.PrimaryMessages(Recipient), id, "handed over to the primary");
        string verdict = StoredMail.Header(delivered, "X-Spamd-Result") ?? "";
        output.WriteLine($"at the primary: X-Spamd-Result: {verdict}");
        Assert.Contains("ARC_ALLOW_TRUSTED", verdict, StringComparison.Ordinal);
        Assert.Matches(@"R_SPF_ALLOW\([-0-9.]+\)\[\+ip4:127\.0\.0\.10\]", verdict);
        Assert.Contains("DMARC_POLICY_ALLOW", verdict, StringComparison.Ordinal);
        Assert.DoesNotContain("R_SPF_FAIL", verdict, StringComparison.Ordinal);

        string log = RspamdLogLine(id);
        output.WriteLine($"primary's rspamd: {log}");
        Assert.Contains("(no action)", log, StringComparison.Ordinal);
        Assert.Contains("ARC_ALLOW_TRUSTED", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheSameMessageSentStraightToThePrimaryFromAnotherAddressIsRefused()
    {
        // Note: the control that shows the first test can fail. 127.0.0.1 is not in the
        // sender's SPF record and the message carries no ARC seal: the primary's rspamd
        // refuses it, as it would refuse the hand-over if it did not trust the backup.
        string id = $"control-{Guid.NewGuid():N}@{PrimaryTrustLabFixture.SenderDomain}";
        SmtpReply sent = await SendAsync(lab.PrimarySmtp, "127.0.0.1", id);
        output.WriteLine($"primary: {sent.Code} {sent.Text}");
        Assert.Equal(554, sent.Code);
        Assert.Contains("[primary-spf]", sent.Text, StringComparison.Ordinal);

        string log = RspamdLogLine(id);
        output.WriteLine($"primary's rspamd: {log}");
        Assert.Contains("(reject)", log, StringComparison.Ordinal);
        Assert.Contains("R_SPF_FAIL", log, StringComparison.Ordinal);
        Assert.Contains("DMARC_POLICY_REJECT", log, StringComparison.Ordinal);
        Assert.DoesNotContain(lab.PrimaryMessages(Recipient), f => Contains(f, id));
    }

    [Fact]
    public async Task ThePrimaryGivesTheBackupNoRelayRights()
    {
        string config = lab["PRIMARY_POSTFIX"];
        ProcessRunner.Result mynetworks = await ProcessRunner.RunAsync("postconf", ["-c", config, "-h", "mynetworks"]);
        Assert.Equal(0, mynetworks.ExitCode);
        Assert.Equal("", mynetworks.Output.Trim());
        ProcessRunner.Result all = await ProcessRunner.RunAsync("postconf", ["-c", config, "-n"]);
        Assert.DoesNotContain("permit_mynetworks", all.Output, StringComparison.Ordinal);
        Assert.Contains($"smtpd_milters = inet:{lab["PRIMARY_MILTER"]}", all.Output, StringComparison.Ordinal);
        Assert.Contains("milter_default_action = tempfail", all.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// Like an MTA: a 4xx is tried again (a loaded machine's rspamd can miss the milter's
    /// timeout, and Postfix then answers 451 4.7.1 "try again later", as it should); a 5xx or
    /// a 250 is the answer under test.
    /// </summary>
    private Task<SmtpReply> SendRetryingAsync((string Host, int Port) server, string from, string messageId) =>
        new SmtpRetry { Attempts = 10, Delay = TimeSpan.FromSeconds(5) }.SendAsync(
            _ => SendAsync(server, from, messageId),
            again: r => SmtpRetry.IsTransient(r.Code),
            beforeRetry: (n, r) =>
            {
                output.WriteLine($"attempt {n}: {r.Text}; again in 5 s");
                return Task.CompletedTask;
            });

    private static async Task<SmtpReply> SendAsync((string Host, int Port) server, string from, string messageId)
    {
        string sender = $"ana@{PrimaryTrustLabFixture.SenderDomain}";
        byte[] message = Encoding.ASCII.GetBytes(
            $"From: Ana <{sender}>\nTo: {Recipient}\nSubject: primary trust\nMessage-ID: <{messageId}>\n" +
            $"Date: {DateTime.UtcNow:ddd, dd MMM yyyy HH:mm:ss} +0000\n\nHola desde remitente.test.\n");
        await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(server.Host, server.Port, bindAddress: from);
        SmtpReply ehlo = await client.CommandAsync($"EHLO mx.{PrimaryTrustLabFixture.SenderDomain}");
        Assert.Equal(250, ehlo.Code);
        return await client.SendAsync(sender, [Recipient], message);
    }

    private static async Task<byte[]> WaitForMessageAsync(Func<IEnumerable<string>> files, string messageId, string what)
    {
        DateTime deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            foreach (string file in files())
            {
                try
                {
                    byte[] bytes = await File.ReadAllBytesAsync(file);
                    if (StoredMail.Header(bytes, "Message-ID") == $"<{messageId}>")
                    {
                        return bytes;
                    }
                }
                catch (FileNotFoundException)
                {
                    // Note: moved from new/ to cur/ or handed over meanwhile.
                }
            }
            Assert.True(DateTime.UtcNow < deadline, $"<{messageId}> not {what} within {Patience.TotalSeconds:0} s");
            await Task.Delay(250);
        }
    }

    /// <summary>The primary's rspamd's verdict line for a message (rspamd_task_write_log).</summary>
    private string RspamdLogLine(string messageId) =>
        File.ReadLines(lab["PRIMARY_RSPAMD_LOG"])
            .LastOrDefault(l => l.Contains("rspamd_task_write_log", StringComparison.Ordinal) && l.Contains($"id: <{messageId}>", StringComparison.Ordinal))
        ?? throw new Xunit.Sdk.XunitException($"no verdict for <{messageId}> in {lab["PRIMARY_RSPAMD_LOG"]}");

    private static bool Contains(string file, string text)
    {
        try
        {
            return File.ReadAllText(file).Contains(text, StringComparison.Ordinal);
        }
        catch (FileNotFoundException)
        {
            return false;
        }
    }
}
