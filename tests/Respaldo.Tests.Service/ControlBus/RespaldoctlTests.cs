using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Respaldo.ControlBus;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Service.ControlBus;

/// <summary>
/// respaldoctl driving the lab's daemon over a private system-like bus that has Respaldo's
/// own policy file: reads for anyone, changes for root and respaldo-admin only.
/// </summary>
public sealed class RespaldoctlTests(ServiceLab lab) : IClassFixture<ServiceLab>
{
    private static JsonNode Json(ProcessRunner.Result r) => JsonNode.Parse(r.Output) ?? throw new InvalidOperationException(r.ToString());

    private async Task<int> WaitingAsync()
    {
        ProcessRunner.Result queue = await lab.CtlAsync("queue", lab.TenantId, "--json");
        Assert.True(queue.ExitCode == 0, queue.ToString());
        return Json(queue).AsArray().Count;
    }

    /// <summary>No automatic probing during the test: only respaldoctl's requests hand over.</summary>
    private async Task SlowAutomaticProbesAsync(double? maxMessagesPerSecond)
    {
        lab.EditConfig(c =>
        {
            c["controller"] = new JsonObject { ["probeIntervalSeconds"] = 600, ["probeIntervalMaxSeconds"] = 600 };
            JsonObject primary = c["tenants"]![0]!["primary"]!.AsObject();
            primary.Remove("maxMessagesPerSecond");
            if (maxMessagesPerSecond is { } rate)
            {
                primary["maxMessagesPerSecond"] = rate;
            }
        });
        ProcessRunner.Result reload = await lab.CtlAsync("reload");
        Assert.True(reload.ExitCode == 0 && reload.Output.Contains("reloaded", StringComparison.Ordinal), reload.ToString());
    }

    [Fact]
    public async Task StatusQueueAndHeldAreReadableByAnyoneAsTablesAndJson()
    {
        ProcessRunner.Result status = await lab.CtlAsync("status", "--json");
        Assert.True(status.ExitCode == 0, status.ToString());
        // Note: the lab has two tenants; the list is in the daemon's order.
        JsonNode tenant = Json(status)["tenants"]!.AsArray().Single(t => (string?)t!["id"] == lab.TenantId)!;
        Assert.Equal(lab.TenantId, (string?)tenant["id"]);
        Assert.Equal(lab["PRIMARY_SMTP"], (string?)tenant["primary"]);
        Assert.Equal(lab["CONFIG"], (string?)Json(status)["daemon"]!["config"]);

        ProcessRunner.Result asNobody = await lab.CtlAsAsync(RunAs.Nobody, "status");
        Assert.True(asNobody.ExitCode == 0, asNobody.ToString());
        Assert.Matches(new Regex($@"(?m)^{lab.TenantId}\s+{Regex.Escape(lab["PRIMARY_SMTP"])}\s"), asNobody.Output);

        foreach (string read in new[] { "queue", "held" })
        {
            ProcessRunner.Result r = await lab.CtlAsAsync(RunAs.Nobody, read, "--json");
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.IsType<JsonArray>(Json(r));
        }
    }

    [Fact]
    public async Task FlushHandsEverythingOverWithAProgressBarUntilDone()
    {
        await SlowAutomaticProbesAsync(maxMessagesPerSecond: 15);
        await lab.LabAsync("primary-down");
        string batch = TestMessages.Unique("flush");
        var subjects = Enumerable.Range(0, 30).Select(i => $"{batch}-{i}").ToList();
        foreach (string s in subjects)
        {
            await lab.SendAsync("info@suempresa.test", s);
        }
        await ServiceLab.WaitUntilAsync(async () => await WaitingAsync() >= 30, TimeSpan.FromSeconds(30), "30 messages waiting");
        await lab.LabAsync("primary-up");

        ProcessRunner.Result flush = await lab.CtlAsync("flush", lab.TenantId);

        Assert.True(flush.ExitCode == 0, flush.ToString());
        Assert.Contains($"{lab.TenantId}: 30 delivered, 0 deferred, 0 held of 30", flush.Output, StringComparison.Ordinal);
        // The bar: one line per change on a pipe, counting up to 30 of 30.
        List<int> counts = Regex.Matches(flush.Error, @"\] (\d+)/30 handed over").Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.True(counts.Count >= 3, flush.ToString());
        Assert.Equal(counts.Order().ToList(), counts);
        Assert.True(counts[0] < 30, flush.Error);
        Assert.Superset(subjects.ToHashSet(), lab.Subjects("primary", "info@suempresa.test").ToHashSet());
        Assert.DoesNotContain(lab.Subjects("backup", "info@suempresa.test"), s => s.StartsWith(batch, StringComparison.Ordinal));
        Assert.Equal(0, await WaitingAsync());
    }

    [Fact]
    public async Task AHeldMessageIsListedCannotBounceWithoutTheSubmissionCredentialAndIsReleasedAndHandedOver()
    {
        await SlowAutomaticProbesAsync(maxMessagesPerSecond: null);
        string mailboxes = Path.Combine(lab["PRIMARY_POSTFIX"], "mailboxes");
        string original = await File.ReadAllTextAsync(mailboxes);
        string subject = TestMessages.Unique("held");
        try
        {
            // The primary forgets ventas@: its RCPT gets 550, a permanent refusal.
            await File.WriteAllTextAsync(mailboxes, string.Join('\n', original.Split('\n').Where(l => !l.StartsWith("ventas@", StringComparison.Ordinal))));
            Assert.Equal(0, (await ProcessRunner.RunAsync("postfix", ["-c", lab["PRIMARY_POSTFIX"], "reload"])).ExitCode);
            await lab.LabAsync("primary-down");
            await lab.SendAsync("ventas@suempresa.test", subject);
            await ServiceLab.WaitUntilAsync(async () => await WaitingAsync() >= 1, TimeSpan.FromSeconds(30), "the message waiting");
            await lab.LabAsync("primary-up");

            ProcessRunner.Result flush = await lab.CtlAsync("flush", lab.TenantId);
            Assert.True(flush.ExitCode == 1, flush.ToString());
            Assert.Contains("1 held", flush.Output, StringComparison.Ordinal);

            ProcessRunner.Result held = await lab.CtlAsync("held", "--json");
            JsonNode entry = Json(held).AsArray().Single(h => (string?)h!["recipient"] == "ventas@suempresa.test")!;
            long id = (long)entry["id"]!;
            Assert.Equal(550, (int)entry["code"]!);
            Assert.Equal("sender@example.org", (string?)entry["sender"]);
            ProcessRunner.Result table = await lab.CtlAsync("held");
            Assert.Matches(new Regex($@"(?m)^\s*{id}\s+{lab.TenantId}\s+ventas@suempresa\.test\s"), table.Output);

            // Without the controller's submission credential there is no way to send the DSN:
            // the bounce is refused and the message stays held.
            string credential = Path.Combine(lab["STATE_DIR"], "secrets", "submission.password");
            File.Move(credential, credential + ".away");
            ProcessRunner.Result bounce;
            try
            {
                bounce = await lab.CtlAsync("bounce", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            finally
            {
                File.Move(credential + ".away", credential);
            }
            Assert.True(bounce.ExitCode == 7, bounce.ToString());
            Assert.Contains("submission path", bounce.Error, StringComparison.Ordinal);
            Assert.Contains(id, Json(await lab.CtlAsync("held", "--json")).AsArray().Select(h => (long)h!["id"]!));

            ProcessRunner.Result nobody = await lab.CtlAsAsync(RunAs.Nobody, "release", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(nobody.ExitCode == 4, nobody.ToString());
            Assert.Contains(id, Json(await lab.CtlAsync("held", "--json")).AsArray().Select(h => (long)h!["id"]!));

            await File.WriteAllTextAsync(mailboxes, original);
            Assert.Equal(0, (await ProcessRunner.RunAsync("postfix", ["-c", lab["PRIMARY_POSTFIX"], "reload"])).ExitCode);
            ProcessRunner.Result release = await lab.CtlAsync("release", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(release.ExitCode == 0, release.ToString());
            Assert.DoesNotContain(id, Json(await lab.CtlAsync("held", "--json")).AsArray().Select(h => (long)h!["id"]!));
            ProcessRunner.Result again = await lab.CtlAsync("release", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(again.ExitCode == 5, again.ToString());

            // Note: the primary is up, so the released message may go at once on its own; flush
            // either hands it over or finds nothing waiting.
            ProcessRunner.Result second = await lab.CtlAsync("flush", lab.TenantId);
            Assert.True(second.ExitCode == 0, second.ToString());
            await ServiceLab.WaitUntilAsync(() => Task.FromResult(lab.Subjects("primary", "ventas@suempresa.test").Contains(subject)),
                TimeSpan.FromSeconds(30), "the released message at the primary");
        }
        finally
        {
            await File.WriteAllTextAsync(mailboxes, original);
            await ProcessRunner.RunAsync("postfix", ["-c", lab["PRIMARY_POSTFIX"], "reload"]);
        }
    }

    [Fact]
    public async Task ACallerOutsideTheAdminGroupIsRefusedEveryChangeButAMemberIsNot()
    {
        foreach (string[] change in new[] { new[] { "flush" }, ["probe", lab.TenantId], ["doctor", lab.TenantId], ["drill", lab.TenantId], ["reload"], ["release", "1"], ["bounce", "1"] })
        {
            ProcessRunner.Result r = await lab.CtlAsAsync(RunAs.Nobody, change);
            Assert.True(r.ExitCode == 4, r.ToString());
            Assert.Contains(ControlContract.AdminGroup, r.Error, StringComparison.Ordinal);
        }

        bool created = (await ProcessRunner.RunAsync("getent", ["group", ControlContract.AdminGroup])).ExitCode != 0;
        if (created)
        {
            Assert.Equal(0, (await ProcessRunner.RunAsync("groupadd", ["--system", ControlContract.AdminGroup])).ExitCode);
        }
        try
        {
            string gid = (await ProcessRunner.RunAsync("getent", ["group", ControlContract.AdminGroup])).Output.Split(':')[2];
            lab.Bus.ReloadConfiguration();
            var member = new RunAs("nobody", "nogroup", gid);
            ProcessRunner.Result probe = null!;
            // Note: the bus re-reads its policy (and resolves the new group) asynchronously after SIGHUP.
            await ServiceLab.WaitUntilAsync(async () => (probe = await lab.CtlAsAsync(member, "probe", lab.TenantId)).ExitCode != 4,
                TimeSpan.FromSeconds(10), "the bus to know respaldo-admin");
            Assert.True(probe.ExitCode is 0 or 6, probe.ToString());
            Assert.Contains(lab["PRIMARY_SMTP"], probe.Output, StringComparison.Ordinal);
        }
        finally
        {
            if (created)
            {
                await ProcessRunner.RunAsync("groupdel", [ControlContract.AdminGroup]);
                lab.Bus.ReloadConfiguration();
            }
        }
    }

    [Fact]
    public async Task TheLastSetUpCheckIsReadableByAnyoneAndCheckingNowByRoot()
    {
        ProcessRunner.Result now = await lab.CtlAsync("doctor", lab.TenantId, "--json");
        Assert.True(now.ExitCode is 0 or 8, now.ToString());
        using (JsonDocument checks = JsonDocument.Parse(now.Output))
        {
            Assert.Contains(checks.RootElement.EnumerateArray(), c => c.GetProperty("check").GetString() == "primary-reachable");
        }
        ProcessRunner.Result last = await lab.CtlAsAsync(RunAs.Nobody, "doctor", lab.TenantId, "--last", "--json");
        Assert.True(last.ExitCode == now.ExitCode, last.ToString());
        using JsonDocument kept = JsonDocument.Parse(last.Output);
        Assert.All(kept.RootElement.EnumerateArray(), c => Assert.Equal(lab.TenantId, c.GetProperty("tenant").GetString()));
        Assert.Contains(kept.RootElement.EnumerateArray(), c => c.GetProperty("check").GetString() == "primary-reachable");
    }

    [Fact]
    public async Task ADaemonThatIsNotThereIsExitCode3WithAReadableMessage()
    {
        ProcessRunner.Result noBus = await lab.CtlAsync("--bus", "unix:path=/nonexistent/respaldo-bus", "status");
        Assert.True(noBus.ExitCode == 3, noBus.ToString());
        Assert.Contains("cannot reach the D-Bus system bus", noBus.Error, StringComparison.Ordinal);

        await using PrivateBus empty = await PrivateBus.StartAsync();
        ProcessRunner.Result noDaemon = await lab.CtlAsync("--bus", empty.Address, "queue");
        Assert.True(noDaemon.ExitCode == 3, noDaemon.ToString());
        Assert.Contains("respaldod is not running", noDaemon.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnknownTenantIsExitCode5()
    {
        ProcessRunner.Result r = await lab.CtlAsync("queue", "no-such-tenant");
        Assert.True(r.ExitCode == 5, r.ToString());
        Assert.Contains("no-such-tenant", r.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheDaemonServesTheContractsIntrospectionToAnyone()
    {
        ProcessRunner.Result r = await ProcessRunner.RunAsync("setpriv",
            ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "dbus-send", $"--bus={lab.Bus.Address}", "--print-reply",
             $"--dest={ControlContract.BusName}", ControlContract.ObjectPath, "org.freedesktop.DBus.Introspectable.Introspect"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        foreach (ControlContract.Method m in ControlContract.Current.Methods.Values)
        {
            Assert.Contains($"<method name=\"{m.Name}\">", r.Output, StringComparison.Ordinal);
        }
        foreach (ControlContract.Signal s in ControlContract.Current.Signals.Values)
        {
            Assert.Contains($"<signal name=\"{s.Name}\">", r.Output, StringComparison.Ordinal);
        }
    }
}
