using System.Globalization;
using System.Text.Json.Nodes;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Service.ControlBus;

/// <summary>
/// Issue 13: with more holds than a page of them (1,500 here), the oldest is listed by
/// respaldoctl held and released by respaldoctl release, over the control bus.
/// </summary>
public sealed class ManyHoldsCtlTests(ServiceLab lab) : IClassFixture<ServiceLab>
{
    private const int Holds = 1500;

    [Fact]
    public async Task WithFifteenHundredHoldsTheOldestIsListedAndReleasedByRespaldoctl()
    {
        string run = Guid.NewGuid().ToString("N")[..10];
        await lab.LabAsync("controller-kill");
        try
        {
            HoldAreaFiller.Fill(lab["HOLD_DIR"], lab.TenantId, "ventas@suempresa.test", run, Holds);
            await lab.LabAsync("controller-start");
            List<long> ids = await Eventually.WaitAsync(() => Task.FromResult(HoldAreaFiller.HeldIds(lab["JOURNAL"], run)), i => i.Count == Holds,
                TimeSpan.FromSeconds(120), "1,500 held files recorded");
            long oldest = ids[0];

            ProcessRunner.Result held = await lab.CtlAsync("held", lab.TenantId, "--json");
            Assert.True(held.ExitCode == 0, held.ToString());
            List<long> listed = JsonNode.Parse(held.Output)!.AsArray().Select(h => (long)h!["id"]!).ToList();
            Assert.True(ids.All(listed.Contains), $"respaldoctl held lists {listed.Count} holds, not every one of the run's {Holds}");

            ProcessRunner.Result release = await lab.CtlAsync("release", oldest.ToString(CultureInfo.InvariantCulture));
            Assert.True(release.ExitCode == 0, release.ToString());
            Assert.Equal("released", (string?)LabJournal.Query(lab["JOURNAL"], $"SELECT state FROM holds WHERE id = {oldest}")[0][0]);
            ProcessRunner.Result after = await lab.CtlAsync("held", lab.TenantId, "--json");
            Assert.DoesNotContain(oldest, JsonNode.Parse(after.Output)!.AsArray().Select(h => (long)h!["id"]!));
        }
        finally
        {
            await lab.LabAsync("controller-kill", check: false);
            HoldAreaFiller.Clear(lab["JOURNAL"], lab["STATE_DIR"], run);
            await lab.LabAsync("controller-start");
        }
    }
}
