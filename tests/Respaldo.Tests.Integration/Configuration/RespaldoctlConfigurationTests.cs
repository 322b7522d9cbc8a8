using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Configuration;

/// <summary>respaldoctl check-config and render, run as an admin would, against the lab's files and real Postfix/Dovecot checkers.</summary>
[Collection(LabCollection.Name)]
public sealed class RespaldoctlConfigurationTests(LabFixture lab) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("respaldo-ctl-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task CheckConfigAcceptsTheLabConfiguration()
    {
        ProcessRunner.Result result = await lab.RespaldoctlAsync("check-config", lab["CONFIG"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("OK (2 tenant(s), 3 domain(s), 5 mailbox(es))", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckConfigRejectsABrokenFileNamingEachField()
    {
        string broken = File.ReadAllText(lab["CONFIG"])
            .Replace("\"*.suempresa.test\"", "\"suempresa.*\"", StringComparison.Ordinal)
            .Replace("\"ventas@suempresa.test\"", "\"ventas@otra.test\"", StringComparison.Ordinal);
        string path = Path.Combine(_dir, "broken.json");
        File.WriteAllText(path, broken);
        ProcessRunner.Result result = await lab.RespaldoctlAsync("check-config", path);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("tenants[0].domains[1]: \"suempresa.*\"", result.Error, StringComparison.Ordinal);
        Assert.Contains("tenants[0].mailboxes[1].address: \"ventas@otra.test\" is not in this tenant's domains", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RenderWithABrokenFileChangesNothing()
    {
        string output = Path.Combine(_dir, "rendered");
        ProcessRunner.Result first = await lab.RespaldoctlAsync("render", "--config", lab["CONFIG"], "--out", output);
        Assert.True(first.ExitCode == 0, first.ToString());
        string mainCf = Path.Combine(output, "postfix", "main.cf");
        DateTime written = File.GetLastWriteTimeUtc(mainCf);
        string before = File.ReadAllText(mainCf);

        string path = Path.Combine(_dir, "broken.json");
        File.WriteAllText(path, File.ReadAllText(lab["CONFIG"]).Replace("\"hostname\"", "\"hostnme\"", StringComparison.Ordinal));
        ProcessRunner.Result second = await lab.RespaldoctlAsync("render", "--config", path, "--out", output);
        Assert.Equal(1, second.ExitCode);
        Assert.Contains("hostnme: unknown field", second.Error, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllText(mainCf));
        Assert.Equal(written, File.GetLastWriteTimeUtc(mainCf));

        ProcessRunner.Result third = await lab.RespaldoctlAsync("render", "--config", lab["CONFIG"], "--out", output);
        Assert.DoesNotContain("wrote", third.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostfixAndDovecotAcceptTheRenderedConfiguration()
    {
        ProcessRunner.Result postfix = await ProcessRunner.RunAsync("postfix", ["-c", lab["BACKUP_POSTFIX"], "check"]);
        Assert.True(postfix.ExitCode == 0, postfix.ToString());
        ProcessRunner.Result postconf = await ProcessRunner.RunAsync("postconf", ["-c", lab["BACKUP_POSTFIX"], "-n", "lmtp_destination_recipient_limit", "virtual_transport"]);
        Assert.Contains("lmtp_destination_recipient_limit = 1", postconf.Output, StringComparison.Ordinal);
        ProcessRunner.Result doveconf = await ProcessRunner.RunAsync("doveconf", ["-c", Path.Combine(lab["RENDERED"], "dovecot", "dovecot.conf"), "-n"]);
        Assert.True(doveconf.ExitCode == 0, doveconf.ToString());
        Assert.Contains("mail_location = maildir:", doveconf.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("warning", postfix.Error + doveconf.Error, StringComparison.OrdinalIgnoreCase);
    }
}
