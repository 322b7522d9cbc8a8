using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Respaldo.Tests.Lab;
using Respaldo.Tests.Service.Deploy;
using Xunit.Abstractions;

namespace Respaldo.Tests.Service.Systemd;

/// <summary>
/// The package under a real systemd, the way a Debian admin runs it (README "Installing on a
/// server"): a Debian 12 machine booted with systemd as PID 1 (tests/systemd-container:
/// systemd-nspawn over a cached debootstrap, its own network namespace with a veth pair), the
/// built .deb installed with apt-get (its dependencies resolved for real), then driven with
/// systemctl, journalctl, busctl and respaldoctl only. Mail arrives over SMTP from this host
/// through the veth; the primary is Postfix's smtp-sink inside the machine, started as a unit
/// (and a slow one, to stop the daemon with a message in flight).
/// </summary>
public sealed partial class RealSystemdTests(ITestOutputHelper output)
{
    private static string Script => Path.Combine(RepoPaths.Root, "tests", "systemd-container");

    private readonly string _name = $"rsvc{Environment.ProcessId % 100000}";

    private static readonly Dictionary<string, string> Network = new() { ["RESPALDO_TEST_NETWORK"] = "veth" };

    private Task<ProcessRunner.Result> Machine(params string[] args) =>
        ProcessRunner.RunAsync(Script, args, Network, timeout: TimeSpan.FromMinutes(6));

    private Task<ProcessRunner.Result> Exec(params string[] command) => Machine(["exec", _name, .. command]);

    private async Task<string> Ok(params string[] command)
    {
        ProcessRunner.Result r = await Exec(command);
        Assert.True(r.ExitCode == 0, $"{string.Join(' ', command)}:\n{r}");
        return r.Output;
    }

    private async Task<string> Show(string unit, string property) => (await Ok("systemctl", "show", unit, "-p", property, "--value")).Trim();

    private async Task WriteConfigAsync(object config)
    {
        string file = Path.Combine(Path.GetTempPath(), $"respaldo-{_name}-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(config));
        try
        {
            Assert.True((await Machine("copy-in", _name, file, "/etc/respaldo/respaldo.json")).ExitCode == 0);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static object Config(bool filter) => new Dictionary<string, object>
    {
        ["hostname"] = "mail-backup.suempresa.test",
        ["storage"] = new { allocation = "1GiB", minimumFree = "16MiB" },
        ["postfix"] = new { disableDns = true, inetProtocols = "ipv4" },
        // Note: no DNS server in the machine: with the border on, a sender's SPF cannot be checked.
        ["dns"] = new { resolvers = new[] { "127.0.0.1:53" } },
        ["filter"] = new { enabled = filter },
        ["tenants"] = new[]
        {
            new Dictionary<string, object>
            {
                ["id"] = "suempresa",
                ["name"] = "Su Empresa, S.A.",
                ["domains"] = new[] { "suempresa.test" },
                ["primary"] = new { hosts = new[] { "127.0.0.1:2526" } },
                ["mailboxes"] = new[] { new { address = "info@suempresa.test" } },
                ["alerts"] = new { emails = new[] { "it@external.test" } },
                ["acceptOnlyWhilePrimaryDown"] = false,
            },
        },
    };

    private static async Task<T> WaitAsync<T>(Func<Task<T>> attempt, Func<T, bool> done, TimeSpan timeout, string what) =>
        await Eventually.WaitAsync(attempt, done, timeout, what);

    [Fact]
    public async Task ThePackageRunsUnderARealSystemdFromInstallToStop()
    {
        (ProcessRunner.Result build, string deb) = await BuiltPackage.GetAsync();
        Assert.True(build.ExitCode == 0, build.ToString());
        await Machine("down", _name);
        ProcessRunner.Result boot = await Machine("boot", _name);
        Assert.True(boot.ExitCode == 0, $"a real systemd boots in the machine:\n{boot}");
        output.WriteLine(boot.Output.Trim());
        try
        {
            string address = (await Machine("address", _name)).Output.Trim();
            Assert.True((await Machine("copy-in", _name, deb, "/root/")).ExitCode == 0);
            // apt resolves the package's dependencies (Postfix, Dovecot, rspamd, dbus...) for real.
            ProcessRunner.Result install = await Exec("apt-get", "install", "-y", "-q", "/root/" + Path.GetFileName(deb));
            Assert.True(install.ExitCode == 0, install.ToString());
            Assert.Contains("Next steps", install.Output, StringComparison.Ordinal);

            // 1. Configured as the README says, started with systemctl: Dovecot, rspamd and Postfix come up before the daemon.
            await WriteConfigAsync(Config(filter: true));
            await Ok("respaldoctl", "check-config");
            await Ok("respaldoctl", "render");
            await Ok("systemctl", "start", "respaldo");
            string[] units = ["respaldo-dovecot", "respaldo-rspamd", "respaldo-postfix", "respaldo"];
            foreach (string unit in units)
            {
                Assert.Equal("active", await Show(unit, "ActiveState"));
            }
            var since = new Dictionary<string, long>();
            foreach (string unit in units)
            {
                since[unit] = long.Parse(await Show(unit, "ActiveEnterTimestampMonotonic"), CultureInfo.InvariantCulture);
            }
            Assert.True(since["respaldo-dovecot"] <= since["respaldo-postfix"] && since["respaldo-rspamd"] <= since["respaldo-postfix"]
                && since["respaldo-postfix"] <= since["respaldo"], string.Join(", ", since.Select(s => $"{s.Key} {s.Value}")));
            string status = await Ok("systemctl", "status", "respaldo", "--no-pager");
            Assert.Matches("Status: \"[^\"]+\"", status);
            Assert.Contains("es.respaldo.Control1", await Ok("busctl", "list", "--no-pager"), StringComparison.Ordinal);

            // The border is live: rspamd is Postfix's milter, and without DNS it cannot check the sender: 4xx, never stored.
            SmtpReply refused = await SendAsync(address, "border");
            Assert.True(refused.Code / 100 == 4, $"with the border on and no DNS, a sender is deferred: {refused.Code} {refused.Text}");

            // 2. systemctl reload re-renders and reloads: the border off, mail goes through, end to end.
            await WriteConfigAsync(Config(filter: false));
            string pid = await Show("respaldo", "MainPID");
            await Ok("systemctl", "reload", "respaldo");
            Assert.Equal(pid, await Show("respaldo", "MainPID"));
            string subject = TestMessages.Unique("systemd");
            SmtpReply accepted = await SendAsync(address, subject);
            Assert.True(accepted.Code == 250, $"{accepted.Code} {accepted.Text}");
            await WaitAsync(() => Exec("find", "/var/lib/respaldo/maildirs", "-path", "*/new/*", "-type", "f"), r => r.Output.Trim().Length > 0,
                TimeSpan.FromSeconds(30), "stored by Dovecot in the tenant's maildir");
            // journald has the daemon's entries with their fields: by tenant, by outcome.
            string byTenant = await Ok("journalctl", "-u", "respaldo", "TENANT=suempresa", "-o", "json", "--no-pager");
            string[] entries = byTenant.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.NotEmpty(entries);
            Assert.All(entries, e => Assert.Equal("suempresa", JsonDocument.Parse(e).RootElement.GetProperty("TENANT").GetString()));
            Assert.Contains("probe of 127.0.0.1:2526", await Ok("journalctl", "-u", "respaldo", "TENANT=suempresa", "OUTCOME=down", "-o", "cat", "--no-pager"), StringComparison.Ordinal);
            Assert.Equal("-- No entries --", (await Exec("journalctl", "-u", "respaldo", "TENANT=otra", "--no-pager")).Output.Trim());

            // The primary comes up (Postfix's smtp-sink, as a unit): the message is handed over and leaves the backup.
            await Ok("install", "-d", "-o", "nobody", "/var/tmp/primary");
            await Ok("systemd-run", "--unit=primary-sink", "/usr/sbin/smtp-sink", "-u", "nobody", "-d", "/var/tmp/primary/", "127.0.0.1:2526", "10");
            await WaitAsync(() => Exec("grep", "-rl", subject, "/var/tmp/primary"), r => r.ExitCode == 0, TimeSpan.FromSeconds(60), "the message at the primary");
            await WaitAsync(() => Exec("find", "/var/lib/respaldo/maildirs", "-path", "*/new/*", "-type", "f"), r => r.Output.Trim().Length == 0,
                TimeSpan.FromSeconds(30), "the backup's copy deleted");
            Assert.Contains("hand-over ended: 1 delivered", await Ok("journalctl", "-u", "respaldo", "TENANT=suempresa", "-o", "cat", "--no-pager"), StringComparison.Ordinal);

            // 3. An invalid configuration: reload fails, the daemon keeps running with the old one.
            await Ok("cp", "/etc/respaldo/respaldo.json", "/root/good.json");
            await Ok("sh", "-c", "echo '{ \"hostname\": 5 }' >/etc/respaldo/respaldo.json");
            ProcessRunner.Result badReload = await Exec("systemctl", "reload", "respaldo");
            Assert.NotEqual(0, badReload.ExitCode);
            Assert.Equal("active", await Show("respaldo", "ActiveState"));
            Assert.Equal(pid, await Show("respaldo", "MainPID"));
            Assert.Contains("reload refused", await Show("respaldo", "StatusText"), StringComparison.Ordinal);
            await Ok("cp", "/root/good.json", "/etc/respaldo/respaldo.json");
            await Ok("systemctl", "reload", "respaldo");

            // 4. The bus policy: a member of respaldo-admin may change things, an ordinary user only read.
            await Ok("useradd", "-m", "ana");
            await Ok("usermod", "-a", "-G", "respaldo-admin", "ana");
            await Ok("useradd", "-m", "pepe");
            Assert.Contains("suempresa", await Ok("runuser", "-u", "ana", "--", "respaldoctl", "status"), StringComparison.Ordinal);
            await Ok("runuser", "-u", "ana", "--", "respaldoctl", "flush", "suempresa");
            Assert.Contains("suempresa", await Ok("runuser", "-u", "pepe", "--", "respaldoctl", "status"), StringComparison.Ordinal);
            ProcessRunner.Result refusedFlush = await Exec("runuser", "-u", "pepe", "--", "respaldoctl", "flush", "suempresa");
            Assert.True(refusedFlush.ExitCode == 4, $"an ordinary user's flush is refused (exit 4):\n{refusedFlush}");

            // 5. systemd's own rating of the unit's sandbox, on the machine that runs it.
            Match exposure = ExposureLine().Match(await Ok("systemd-analyze", "security", "respaldo.service", "--no-pager"));
            Assert.True(exposure.Success);
            Assert.True(double.Parse(exposure.Groups[1].Value, CultureInfo.InvariantCulture) <= 2.5, exposure.Value);

            // 6. A frozen daemon: the watchdog kills it and systemd starts it again.
            await Ok("systemctl", "kill", "-s", "SIGSTOP", "respaldo");
            await WaitAsync(async () => (await Show("respaldo", "NRestarts"), await Show("respaldo", "ActiveState"), await Show("respaldo", "MainPID")),
                s => s.Item1 != "0" && s.Item2 == "active" && s.Item3 != pid && s.Item3 != "0", TimeSpan.FromSeconds(150), "restarted after the watchdog's timeout");
            Assert.Contains("Watchdog timeout", await Ok("journalctl", "-u", "respaldo", "-o", "cat", "--no-pager"), StringComparison.Ordinal);

            // 7. systemctl stop finishes the message in flight: a primary slow to answer the final dot
            // (8 s), a stop asked while it waits; the message is delivered, journaled, its copy deleted.
            await Ok("systemctl", "stop", "primary-sink");
            await Ok("systemd-run", "--unit=slow-sink", "/usr/sbin/smtp-sink", "-u", "nobody", "-d", "/var/tmp/primary/", "-W", ".:8", "127.0.0.1:2526", "10");
            int Count(string journal, string what) => journal.Split('\n').Count(l => l.Contains(what, StringComparison.Ordinal));
            Task<string> Journal() => Ok("journalctl", "-u", "respaldo", "TENANT=suempresa", "-o", "cat", "--no-pager");
            int started = Count(await Journal(), "handing over 1 message(s)");
            int ended = Count(await Journal(), "hand-over ended: 1 delivered");
            string inFlight = TestMessages.Unique("inflight");
            SmtpReply slow = await SendAsync(address, inFlight);
            Assert.True(slow.Code == 250, $"{slow.Code} {slow.Text}");
            await WaitAsync(Journal, j => Count(j, "handing over 1 message(s)") > started, TimeSpan.FromSeconds(30), "the hand-over of the new message started");
            await Task.Delay(TimeSpan.FromSeconds(2));
            // Still in the backup while the primary sits on the final dot.
            Assert.Single((await Ok("grep", "-rl", "--exclude=dovecot*", inFlight, "/var/lib/respaldo/maildirs")).Split('\n', StringSplitOptions.RemoveEmptyEntries));

            // 8. systemctl stop: the daemon and the services that are part of it stop; none is left failed.
            await Ok("systemctl", "stop", "respaldo");
            Assert.Equal(0, (await Exec("grep", "-rl", inFlight, "/var/tmp/primary")).ExitCode);
            // Note: Dovecot's index files keep the subject after the file is gone: only messages count.
            Assert.NotEqual(0, (await Exec("grep", "-rl", "--exclude=dovecot*", inFlight, "/var/lib/respaldo/maildirs")).ExitCode);
            Assert.Equal(ended + 1, Count(await Journal(), "hand-over ended: 1 delivered"));
            foreach (string unit in units)
            {
                // Note: systemctl returns once respaldo is stopped; the units part of it may still be deactivating.
                string state = await WaitAsync(() => Show(unit, "ActiveState"), s => s is "inactive" or "failed", TimeSpan.FromSeconds(30), $"{unit} stopped");
                Assert.True(state == "inactive" && await Show(unit, "Result") == "success",
                    $"{unit} is {state} after 'systemctl stop respaldo':\n{await Exec("systemctl", "status", unit, "--no-pager")}");
            }
        }
        finally
        {
            ProcessRunner.Result down = await Machine("down", _name);
            output.WriteLine(down.ToString());
        }
    }

    private static async Task<SmtpReply> SendAsync(string address, string subject)
    {
        await using SmtpTestClient smtp = await SmtpTestClient.ConnectAsync(address, 25);
        await smtp.CommandAsync("EHLO mx.example.org");
        return await smtp.SendAsync("cliente@example.org", ["info@suempresa.test"], TestMessages.Plain(subject));
    }

    [GeneratedRegex(@"Overall exposure level for respaldo\.service: (\d+\.\d)")]
    private static partial Regex ExposureLine();
}
