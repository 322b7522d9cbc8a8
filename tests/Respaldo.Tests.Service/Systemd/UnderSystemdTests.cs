using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Service.Systemd;

/// <summary>
/// respaldod as systemd runs it, without systemd: PID 1 of a new PID namespace (so the
/// hosting package believes it is a service), $NOTIFY_SOCKET pointing at a socket this test
/// reads, $WATCHDOG_USEC set. The lab's Postfix/Dovecot and primary are real; the lab's own
/// controller is stopped for the test and started again after it.
/// </summary>
public sealed class UnderSystemdTests(PermissiveBusLab lab) : IClassFixture<PermissiveBusLab>
{
    private const long WatchdogUsec = 2_000_000;

    /// <summary>The daemon under unshare: the unshare process, the daemon's pid seen from here, and everything it printed.</summary>
    private sealed class Pid1Daemon : IAsyncDisposable
    {
        private readonly Process _unshare;

        public Pid1Daemon(Process unshare) => _unshare = unshare;

        public Process Unshare => _unshare;

        public List<string> Output { get; } = [];

        public int DaemonPid { get; set; }

        public bool HasExited => _unshare.HasExited;

        public Task WaitForExitAsync(CancellationToken token) => _unshare.WaitForExitAsync(token);

        public int ExitCode => _unshare.ExitCode;

        public string Log
        {
            get
            {
                lock (Output)
                {
                    return string.Join('\n', Output);
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_unshare.HasExited)
            {
                _unshare.Kill(entireProcessTree: true);
                await _unshare.WaitForExitAsync();
            }
            _unshare.Dispose();
        }
    }

    private async Task<Pid1Daemon> StartAsync(NotifySocket notify)
    {
        var info = new ProcessStartInfo("unshare")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { "--pid", "--fork", "--mount-proc", "--kill-child", "dotnet", lab.DaemonDll, "--config", lab["CONFIG"], "--control-bus", lab.Bus.Address })
        {
            info.ArgumentList.Add(a);
        }
        info.Environment["NOTIFY_SOCKET"] = notify.Path;
        info.Environment["WATCHDOG_USEC"] = WatchdogUsec.ToString(CultureInfo.InvariantCulture);
        // Note: inside the namespace the daemon is pid 1, which is what systemd would name.
        info.Environment["WATCHDOG_PID"] = "1";
        info.Environment.Remove("RESPALDO_CONTROL_BUS");
        var daemon = new Pid1Daemon(Process.Start(info)!);
        Process process = daemon.Unshare;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (daemon.Output) { daemon.Output.Add(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (daemon.Output) { daemon.Output.Add("stderr: " + e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        // The daemon is unshare's only child.
        await ServiceLab.WaitUntilAsync(() =>
        {
            string children = Path.Combine("/proc", process.Id.ToString(CultureInfo.InvariantCulture), "task", process.Id.ToString(CultureInfo.InvariantCulture), "children");
            string text = File.Exists(children) ? File.ReadAllText(children).Trim() : "";
            daemon.DaemonPid = text.Length > 0 ? int.Parse(text.Split(' ')[0], CultureInfo.InvariantCulture) : 0;
            return Task.FromResult(daemon.DaemonPid != 0);
        }, TimeSpan.FromSeconds(10), "the daemon's pid");
        return daemon;
    }

    private static bool PortOpen(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [Fact]
    public async Task TellsSystemdItIsReadyAliveWhatItDoesReloadsAndStopsWithoutLosingMail()
    {
        string config = lab["CONFIG"];
        string originalConfig = await File.ReadAllTextAsync(config);
        await lab.LabAsync("controller-kill", check: false);
        await lab.LabAsync("primary-down");
        // A rate cap makes the hand-over last long enough to be interrupted; no automatic
        // probes after the first, so the test decides when the hand-over starts.
        lab.EditConfig(c =>
        {
            c["controller"] = new JsonObject { ["probeIntervalSeconds"] = 600, ["probeIntervalMaxSeconds"] = 600 };
            c["tenants"]![0]!["primary"]!["maxMessagesPerSecond"] = 8;
        });
        string validConfig = await File.ReadAllTextAsync(config);
        using var notify = new NotifySocket();
        int webPort = ServiceLab.Split(new Uri(lab["WEB_URL"]).Authority).Port;
        try
        {
            await using Pid1Daemon daemon = await StartAsync(notify);

            // READY=1 only once the journal is open and the web and control endpoints listen:
            // both answer the moment it arrives, without a retry.
            int ready = await notify.WaitForAsync(l => l == "READY=1", 0, TimeSpan.FromSeconds(60), "READY=1");
            Assert.True(PortOpen(webPort), "web endpoint not listening at READY=1");
            ProcessRunner.Result status = await lab.CtlAsync("status", "--json");
            Assert.True(status.ExitCode == 0, status + "\n" + daemon.Log);
            Assert.Equal(1, (long)JsonNode.Parse(status.Output)!["daemon"]!["pid"]!);
            Assert.True(File.Exists(lab["JOURNAL"]));

            // WATCHDOG=1 at half of WatchdogSec (2 s here) while the loops beat: never a gap
            // systemd would punish, and about one a second. (A tick delayed by a busy machine is
            // followed by one at once: a timer catching up, so no lower bound per gap.)
            DateTime readyAt = notify.Lines[ready].At;
            await Task.Delay(TimeSpan.FromSeconds(6.5));
            List<DateTime> pings = notify.Lines.Where(l => l.Line == "WATCHDOG=1" && l.At >= readyAt).Select(l => l.At).ToList();
            Assert.True(pings.Count >= 5, $"{pings.Count} WATCHDOG=1 in 6.5 s");
            List<double> gaps = pings.Zip(pings.Skip(1), (a, b) => (b - a).TotalSeconds).ToList();
            Assert.All(gaps, g => Assert.True(g < WatchdogUsec / 1e6, $"a {g:0.00} s gap between pings would let systemd kill the daemon"));
            Assert.InRange(gaps.Order().ElementAt(gaps.Count / 2), 0.8, 1.2);

            // /healthz asks the same heartbeats the watchdog does: every loop beats, so "ok".
            using (var web = new HttpClient())
            {
                HttpResponseMessage health = await web.GetAsync(new Uri(new Uri(lab["WEB_URL"]), "/healthz"));
                Assert.Equal(System.Net.HttpStatusCode.OK, health.StatusCode);
                Assert.Equal("ok\n", await health.Content.ReadAsStringAsync());
            }

            // STATUS= says what it does.
            string batch = TestMessages.Unique("pid1");
            for (int i = 0; i < 3; i++)
            {
                await lab.SendAsync("info@suempresa.test", $"{batch}-{i}");
            }
            string primaryHost = ServiceLab.Split(lab["PRIMARY_SMTP"]).Host;
            var waitingStatus = new Regex($@"^STATUS=3 messages waiting for {Regex.Escape(primaryHost)}, primary down since \d\d:\d\d$");
            await notify.WaitForAsync(waitingStatus.IsMatch, ready, TimeSpan.FromSeconds(30), "STATUS= with 3 messages waiting");

            // journald: the systemd console format, a <priority> on every line.
            Assert.Contains(daemon.Output.ToList(), l => l.StartsWith("<6>", StringComparison.Ordinal));

            // SIGHUP with a valid configuration: RELOADING=1, then READY=1, and the new file is in use.
            lab.EditConfig(c => c["controller"]!["probeIntervalMaxSeconds"] = 900);
            int mark = notify.Lines.Count;
            Signals.Send(daemon.DaemonPid, Mono.Unix.Native.Signum.SIGHUP);
            int reloading = await notify.WaitForAsync(l => l.StartsWith("RELOADING=1", StringComparison.Ordinal), mark, TimeSpan.FromSeconds(30), "RELOADING=1");
            Assert.Matches(@"^MONOTONIC_USEC=\d+$", notify.Lines[reloading + 1].Line);
            await notify.WaitForAsync(l => l == "READY=1", reloading, TimeSpan.FromSeconds(30), "READY=1 after the reload");
            await ServiceLab.WaitUntilAsync(() => Task.FromResult(daemon.Log.Contains($"reloaded: {lab.TenantCount} tenant(s)", StringComparison.Ordinal)), TimeSpan.FromSeconds(10), "the reload logged");

            // SIGHUP with an invalid one: still RELOADING/READY, the old configuration stays, the
            // log says why at error priority, the status line says so.
            await File.WriteAllTextAsync(config, "{ \"hostname\": \"x\", ");
            mark = notify.Lines.Count;
            Signals.Send(daemon.DaemonPid, Mono.Unix.Native.Signum.SIGHUP);
            reloading = await notify.WaitForAsync(l => l.StartsWith("RELOADING=1", StringComparison.Ordinal), mark, TimeSpan.FromSeconds(30), "RELOADING=1");
            int readyAgain = await notify.WaitForAsync(l => l == "READY=1", reloading, TimeSpan.FromSeconds(30), "READY=1 after the refused reload");
            await notify.WaitForAsync(l => l.StartsWith("STATUS=", StringComparison.Ordinal) && l.Contains("reload refused", StringComparison.Ordinal),
                readyAgain, TimeSpan.FromSeconds(10), "STATUS= saying the reload was refused");
            await ServiceLab.WaitUntilAsync(() => Task.FromResult(daemon.Output.ToList().Any(l =>
                l.StartsWith("<3>", StringComparison.Ordinal) && l.Contains("refused, keeping the running configuration", StringComparison.Ordinal))),
                TimeSpan.FromSeconds(10), "the refused reload logged at error priority");
            Assert.False(daemon.HasExited);
            // The running configuration goes on serving: the 3 messages still wait, the bus answers.
            await ServiceLab.WaitUntilAsync(async () =>
            {
                ProcessRunner.Result q = await lab.CtlAsync("queue", "--json");
                return q.ExitCode == 0 && JsonNode.Parse(q.Output)!.AsArray().Count == 3;
            }, TimeSpan.FromSeconds(30), "the 3 messages still waiting under the old configuration");

            await File.WriteAllTextAsync(config, validConfig);
            mark = notify.Lines.Count;
            Signals.Send(daemon.DaemonPid, Mono.Unix.Native.Signum.SIGHUP);
            int fixedReady = await notify.WaitForAsync(l => l.StartsWith("STATUS=", StringComparison.Ordinal) && !l.Contains("refused", StringComparison.Ordinal),
                mark, TimeSpan.FromSeconds(30), "STATUS= without the refusal after a good reload");
            Assert.True(fixedReady > mark);
            // The reloaded controller still knows the 3 waiting messages (its index was kept).
            await ServiceLab.WaitUntilAsync(async () =>
            {
                ProcessRunner.Result q = await lab.CtlAsync("queue", "--json");
                return q.ExitCode == 0 && JsonNode.Parse(q.Output)!.AsArray().Count == 3;
            }, TimeSpan.FromSeconds(30), "the reloaded controller to see the 3 waiting messages");

            // SIGTERM in the middle of a hand-over: STOPPING=1, a clean exit, and every message
            // is on one side or the other (at the primary, or still in its backup mailbox).
            for (int i = 3; i < 40; i++)
            {
                await lab.SendAsync("info@suempresa.test", $"{batch}-{i}");
            }
            // Every message is stored at the backup (on disk) and the daemon knows it waits.
            await ServiceLab.WaitUntilAsync(async () =>
            {
                if (lab.Subjects("backup", "info@suempresa.test").Count(s => s.StartsWith(batch, StringComparison.Ordinal)) < 40)
                {
                    return false;
                }
                ProcessRunner.Result q = await lab.CtlAsync("queue", "--json");
                return q.ExitCode == 0 && JsonNode.Parse(q.Output)!.AsArray().Count >= 40;
            }, TimeSpan.FromSeconds(60), "40 messages stored and waiting");
            await lab.LabAsync("primary-up");
            ProcessRunner.Result probe = await lab.CtlAsync("probe", lab.TenantId);
            Assert.True(probe.ExitCode == 0, probe.ToString());
            await notify.WaitForAsync(l => l.StartsWith("STATUS=handing over to", StringComparison.Ordinal), 0, TimeSpan.FromSeconds(30), "STATUS= handing over");
            await ServiceLab.WaitUntilAsync(() => Task.FromResult(lab.Subjects("primary", "info@suempresa.test").Count(s => s.StartsWith(batch, StringComparison.Ordinal)) >= 5),
                TimeSpan.FromSeconds(30), "5 messages at the primary");
            mark = notify.Lines.Count;
            Signals.Send(daemon.DaemonPid, Mono.Unix.Native.Signum.SIGTERM);
            await notify.WaitForAsync(l => l == "STOPPING=1", mark, TimeSpan.FromSeconds(10), "STOPPING=1");
            using (var exit = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
            {
                await daemon.WaitForExitAsync(exit.Token);
            }
            Assert.True(daemon.ExitCode == 0, daemon.Log);

            var expected = Enumerable.Range(0, 40).Select(i => $"{batch}-{i}").ToHashSet();
            var atPrimary = lab.Subjects("primary", "info@suempresa.test").Where(expected.Contains).ToHashSet();
            var atBackup = lab.Subjects("backup", "info@suempresa.test").Where(expected.Contains).ToHashSet();
            Assert.True(atPrimary.Count is > 0 and < 40, $"{atPrimary.Count} at the primary: the stop did not come mid-hand-over");
            Assert.Empty(expected.Except(atPrimary).Except(atBackup));
        }
        finally
        {
            await File.WriteAllTextAsync(config, originalConfig);
            await lab.LabAsync("primary-up", check: false);
            await lab.LabAsync("controller-start", check: false);
        }
    }

    [Fact]
    public async Task TheDaemonRefusesAChangeFromAnOutsiderEvenWhenTheBusPolicyWouldAllowIt()
    {
        await lab.LabAsync("controller-start");
        ProcessRunner.Result status = await lab.CtlAsAsync(RunAs.Nobody, "status");
        Assert.True(status.ExitCode == 0, status.ToString());
        foreach (string[] change in new[] { new[] { "flush" }, ["reload"], ["release", "1"] })
        {
            ProcessRunner.Result r = await lab.CtlAsAsync(RunAs.Nobody, change);
            Assert.True(r.ExitCode == 4, r.ToString());
            // The refusal comes from respaldod, not from the bus (which allows everything here).
            Assert.Contains("changes the controller: it needs root or the group respaldo-admin", r.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("the bus refused", r.Error, StringComparison.Ordinal);
        }
        ProcessRunner.Result root = await lab.CtlAsync("flush");
        Assert.True(root.ExitCode is 0 or 6, root.ToString());
    }
}
