using System.Text.Json.Nodes;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Service.Systemd;

/// <summary>
/// deploy/systemd/respaldo-reload, the unit's ExecReload: re-render, reload Postfix/Dovecot only
/// when their files changed, SIGHUP the daemon; an invalid file changes nothing anywhere.
/// Run against the lab's rendered configuration and controller.
/// </summary>
public sealed class ReloadScriptTests(ServiceLab lab) : IClassFixture<ServiceLab>
{
    private Task<ProcessRunner.Result> ReloadAsync() => ProcessRunner.RunAsync(
        Path.Combine(RepoPaths.Root, "deploy", "systemd", "respaldo-reload"),
        [File.ReadAllText(lab["CONTROLLER_PIDFILE"]).Trim()],
        new Dictionary<string, string>
        {
            ["RESPALDO_CONFIG"] = lab["CONFIG"],
            ["RESPALDO_RENDERED"] = lab["RENDERED"],
            // The framework-dependent build's own launcher, as /usr/lib/respaldo/respaldoctl is installed.
            ["RESPALDOCTL"] = Path.Combine(Path.GetDirectoryName(lab.CtlDll)!, "respaldoctl"),
        });

    private async Task<int> RcptAsync(string address)
    {
        (string host, int port) = ServiceLab.Split(lab["BACKUP_SMTP"]);
        await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(host, port);
        await client.CommandAsync("EHLO sender.example.org");
        await client.CommandAsync("MAIL FROM:<sender@example.org>");
        int code = (await client.CommandAsync($"RCPT TO:<{address}>")).Code;
        await client.CommandAsync("QUIT");
        return code;
    }

    private string ControllerLog => File.ReadAllText(Path.Combine(lab["LOGS"], "controller.log"));

    [Fact]
    public async Task ReloadsOnlyWhatChangedAndRefusesAnInvalidFileEverywhere()
    {
        string original = await File.ReadAllTextAsync(lab["CONFIG"]);
        try
        {
            ProcessRunner.Result unchanged = await ReloadAsync();
            Assert.True(unchanged.ExitCode == 0, unchanged.ToString());
            Assert.Contains("postfix: configuration unchanged, not reloaded", unchanged.Output, StringComparison.Ordinal);
            Assert.Contains("dovecot: configuration unchanged, not reloaded", unchanged.Output, StringComparison.Ordinal);

            Assert.Equal(550, await RcptAsync("nuevo@suempresa.test"));
            lab.EditConfig(c => c["tenants"]![0]!["mailboxes"]!.AsArray().Add(new JsonObject { ["address"] = "nuevo@suempresa.test" }));
            ProcessRunner.Result changed = await ReloadAsync();
            Assert.True(changed.ExitCode == 0, changed.ToString());
            Assert.Contains("postfix/virtual_mailboxes", changed.Output, StringComparison.Ordinal);
            Assert.Contains("postfix: reloaded", changed.Output, StringComparison.Ordinal);
            Assert.Contains("dovecot: reloaded", changed.Output, StringComparison.Ordinal);
            int rcpt = 0;
            try
            {
                await ServiceLab.WaitUntilAsync(async () => (rcpt = await RcptAsync("nuevo@suempresa.test")) == 250, TimeSpan.FromSeconds(60), "Postfix to accept the new mailbox");
            }
            catch (TimeoutException e)
            {
                throw new TimeoutException($"RCPT TO:<nuevo@suempresa.test> still answers {rcpt}\n{ControllerLog}", e);
            }
            await ServiceLab.WaitUntilAsync(() => Task.FromResult(ControllerLog.Contains("reloading", StringComparison.Ordinal) && ControllerLog.Contains($"reloaded: {lab.TenantCount} tenant(s)", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(20), "the daemon to reload on SIGHUP");

            string rendered = await File.ReadAllTextAsync(Path.Combine(lab["RENDERED"], "postfix", "virtual_mailboxes"));
            await File.WriteAllTextAsync(lab["CONFIG"], original.Replace("\"tenants\"", "\"tenantz\"", StringComparison.Ordinal));
            ProcessRunner.Result invalid = await ReloadAsync();
            Assert.True(invalid.ExitCode == 1, invalid.ToString());
            Assert.Contains("is invalid", invalid.Error, StringComparison.Ordinal);
            Assert.Equal(rendered, await File.ReadAllTextAsync(Path.Combine(lab["RENDERED"], "postfix", "virtual_mailboxes")));
            await ServiceLab.WaitUntilAsync(() => Task.FromResult(ControllerLog.Contains("refused, keeping the running configuration", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(20), "the daemon to refuse the invalid file");
            Assert.Equal(250, await RcptAsync("nuevo@suempresa.test"));
            ProcessRunner.Result status = await lab.CtlAsync("status", "--json");
            Assert.True(status.ExitCode == 0, status.ToString());
        }
        finally
        {
            await File.WriteAllTextAsync(lab["CONFIG"], original);
        }
    }
}
