using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.FrontDoor;

/// <summary>Inbound STARTTLS with the certificate named in intake.certificateFile, TLS 1.2 or later.</summary>
[Collection(LabCollection.Name)]
public sealed class InboundTlsTests(LabFixture lab) : IAsyncLifetime
{
    public async Task InitializeAsync() => await lab.RunLabAsync("primary-down");

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task OffersStartTlsWithTheConfiguredCertificateAndStoresMailSentOverIt()
    {
        string subject = TestMessages.Unique("tls");
        using X509Certificate2 configured = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(lab["TLS_DIR"], "backup.crt"));
        await using (SmtpTestClient client = await SmtpTestClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port))
        {
            SmtpReply ehlo = await client.CommandAsync("EHLO sender.example.org");
            Assert.Contains("STARTTLS", ehlo.Text, StringComparison.Ordinal);
            Assert.Equal(220, (await client.StartTlsAsync()).Code);
            Assert.Equal(configured.Thumbprint, client.ServerCertificate?.Thumbprint);
            Assert.True(client.TlsProtocol is "Tls12" or "Tls13", client.TlsProtocol);
            SmtpReply again = await client.CommandAsync("EHLO sender.example.org");
            Assert.DoesNotContain("STARTTLS", again.Text, StringComparison.Ordinal);
            SmtpReply reply = await client.SendAsync("sender@example.org", ["info@suempresa.test"], TestMessages.Plain(subject));
            Assert.True(reply.Code == 250, reply.Text);
        }
        string stored = await Eventually.WaitAsync(
            () => Task.FromResult(lab.BackupMessages("info@suempresa.test").Select(File.ReadAllText).FirstOrDefault(t => t.Contains(subject, StringComparison.Ordinal))),
            t => t is not null, TimeSpan.FromSeconds(20), "the message sent over TLS stored") ?? "";
        // Note: smtpd_tls_received_header = yes: the backup's own Received line records the session.
        Assert.Matches(@"\(using TLSv1\.[23] with cipher", stored);
    }

    [Fact]
    public async Task RefusesAHandshakeBelowTls12()
    {
        // Note: .NET on this OpenSSL cannot offer TLS 1.1 at all; openssl s_client with the
        // security level lowered can, and the server must refuse it.
        ProcessRunner.Result result = await ProcessRunner.RunAsync("openssl",
            ["s_client", "-connect", $"{lab.BackupSmtp.Host}:{lab.BackupSmtp.Port}", "-starttls", "smtp", "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"],
            stdin: "", timeout: TimeSpan.FromSeconds(30));
        // Note: the server answers with alert 70, protocol_version (RFC 8446 §6.2); no cipher was agreed.
        Assert.Contains("alert protocol version", result.Output + result.Error, StringComparison.Ordinal);
        Assert.Contains("Cipher is (NONE)", result.Output, StringComparison.Ordinal);
        ProcessRunner.Result modern = await ProcessRunner.RunAsync("openssl",
            ["s_client", "-connect", $"{lab.BackupSmtp.Host}:{lab.BackupSmtp.Port}", "-starttls", "smtp", "-tls1_2"],
            stdin: "", timeout: TimeSpan.FromSeconds(30));
        Assert.Contains("TLSv1.2", modern.Output, StringComparison.Ordinal);
    }
}
