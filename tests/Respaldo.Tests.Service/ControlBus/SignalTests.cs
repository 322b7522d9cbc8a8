using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Respaldo.ControlBus;
using Respaldo.Tests.Lab;
using Tmds.DBus.Protocol;
using Respaldo.Events;

namespace Respaldo.Tests.Service.ControlBus;

/// <summary>The daemon's signals on the bus, as any listener (here: an unprivileged one) receives them.</summary>
public sealed class SignalTests(ServiceLab lab) : IClassFixture<ServiceLab>
{
    private sealed record Signal(string Member, string Tenant, string Host, long Number);

    private static Signal Read(Message m, object? _)
    {
        Reader r = m.GetBodyReader();
        string member = m.MemberAsString ?? "";
        string tenant = r.ReadString();
        switch (member)
        {
            case "PrimaryWentDown":
                return new Signal(member, tenant, r.ReadString(), 0);
            case "PrimaryCameUp":
            {
                string host = r.ReadString();
                return new Signal(member, tenant, host, r.ReadInt64());
            }
            case "HandOverFinished":
            {
                Dictionary<string, VariantValue> progress = r.ReadDictionaryOfStringToVariantValue();
                return new Signal(member, tenant, progress["host"].GetString(), progress["delivered"].GetInt32());
            }
            default:
                return new Signal(member, tenant, "", 0);
        }
    }

    [Fact]
    public async Task AListenerHearsThePrimaryGoDownComeBackAndTheHandOverFinish()
    {
        // Probes only on request: the test decides when the primary's state changes.
        lab.EditConfig(c => c["controller"] = new JsonObject { ["probeIntervalSeconds"] = 600, ["probeIntervalMaxSeconds"] = 600 });
        Assert.Equal(0, (await lab.CtlAsync("reload")).ExitCode);
        await lab.LabAsync("primary-up");
        Assert.Equal(0, (await lab.CtlAsync("probe", lab.TenantId)).ExitCode);

        var heard = new ConcurrentQueue<Signal>();
        using var connection = new DBusConnection(lab.Bus.Address);
        await connection.ConnectAsync();
        using IDisposable match = await connection.AddMatchAsync(
            new MatchRule { Type = MessageType.Signal, Interface = ControlContract.Interface, Path = ControlContract.ObjectPath },
            Read,
            (Notification<Signal> n) =>
            {
                if (n.HasValue)
                {
                    heard.Enqueue(n.Value);
                }
            },
            emitOnCapturedContext: false);

        string host = lab["PRIMARY_SMTP"];
        await lab.LabAsync("primary-down");
        await lab.SendAsync("info@suempresa.test", TestMessages.Unique("signal"));
        await ServiceLab.WaitUntilAsync(() => Task.FromResult(heard.Any(s => s.Member == "PrimaryWentDown")), TimeSpan.FromSeconds(30), "PrimaryWentDown");
        Assert.Contains(heard, s => s is { Member: "PrimaryWentDown", Tenant: "suempresa" } && s.Host == host);

        await lab.LabAsync("primary-up");
        ProcessRunner.Result flush = await lab.CtlAsync("flush", lab.TenantId);
        Assert.True(flush.ExitCode == 0, flush.ToString());
        await ServiceLab.WaitUntilAsync(() => Task.FromResult(heard.Any(s => s is { Member: "HandOverFinished", Number: 1 })), TimeSpan.FromSeconds(30), "HandOverFinished");
        Signal up = Assert.Single(heard, s => s.Member == "PrimaryCameUp");
        Assert.Equal(host, up.Host);
        Assert.True(up.Number > 0, "PrimaryCameUp without the time it went down");
        Assert.Contains(heard, s => s is { Member: "HandOverFinished", Tenant: "suempresa", Number: 1 } && s.Host == host);
    }
}
