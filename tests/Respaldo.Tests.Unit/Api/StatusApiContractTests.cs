using System.Text.Json;
using Respaldo.Daemon.Web.Api;
using Respaldo.HandOver;
using Respaldo.Journaling;
using Respaldo.Primary;
using Respaldo.Status;
using Respaldo.Events;

namespace Respaldo.Tests.Api;

/// <summary>
/// The status API's field names and value formats are a published contract (README, scripts):
/// each sample must serialize, through the source-generated context, to exactly the JSON the
/// API wrote before it had a typed contract (captured from the anonymous objects it used).
/// </summary>
public sealed class StatusApiContractTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);

    private static TenantStatus Sample()
    {
        var current = new HandOverProgress("suempresa", "mx.suempresa.test", 10, Now.AddSeconds(-3));
        current.AddDelivered(1234);
        current.AddDelivered(100);
        current.AddDeferred();
        var last = new HandOverProgress("suempresa", "mx2.suempresa.test", 2, Now.AddHours(-1));
        last.AddHeld();
        last.Finish(Now.AddHours(-1).AddSeconds(7));
        last.StopReason = "primary lost";
        var hold = new HoldRow(7, "suempresa", Now.AddMinutes(-5), "info@suempresa.test", "1764669600.M1P2.host", 2048, "a@b.test", "info@suempresa.test", "/x", "550 5.1.1 <info> unknown", 550, "held");
        return new TenantStatus("suempresa", "Su Empresa Ñ <S.L.>", PrimaryStatus.Down, Now.AddMinutes(-30),
            new ProbeRow(3, Now.AddMinutes(-1), "mx.suempresa.test", false, "connect", 421, "421 busy", 12.345, true),
            4, 4096, 5, 3, 2, 99, [hold], 2048, new StorageStatus(300, 1000, 5000, 4000, 100), current, last)
        {
            HeldCount = 1,
            Border = new BorderCounts([new BorderCount("dnsbl", true, 3), new BorderCount("dnsbl", false, 1)], [new BorderCount("dmarc", true, 2)]),
            CatchAll = [new CatchAllDomain("suempresa.test", Now.AddDays(-1), "x7q@suempresa.test", "250 ok")],
        };
    }


    [Fact]
    public void TheStatusOfATenantKeepsEveryFieldNameAndFormat()
    {
        Assert.Equal(
            """{"tenant":"suempresa","name":"Su Empresa \u00D1 \u003CS.L.\u003E","primary":{"state":"down","since":"2026-12-02T09:30:00+00:00","lastProbe":{"at":"2026-12-02T09:59:00+00:00","host":"mx.suempresa.test","up":false,"reply":"421 busy","latencyMs":12.3}},"waiting":{"messages":4,"bytes":4096},"received":{"today":5,"thisOutage":3},"handedOver":{"today":2,"total":99},"held":{"messages":1,"bytes":2048,"list":[{"id":7,"at":"2026-12-02T09:55:00+00:00","mailbox":"info@suempresa.test","message":"1764669600.M1P2.host","size":2048,"sender":"a@b.test","reason":"550 5.1.1 \u003Cinfo\u003E unknown","code":550}]},"storage":{"used":300,"limit":1000,"percent":30,"diskFree":4000,"diskTotal":5000},"handOver":{"running":true,"current":{"host":"mx.suempresa.test","total":10,"done":3,"delivered":2,"deferred":1,"held":0,"bytes":1334,"started":"2026-12-02T09:59:57+00:00","finished":null,"rate":0.7,"stopReason":null},"last":{"host":"mx2.suempresa.test","total":2,"done":1,"delivered":0,"deferred":0,"held":1,"bytes":0,"started":"2026-12-02T09:00:00+00:00","finished":"2026-12-02T09:00:07+00:00","rate":0,"stopReason":"primary lost"}},"border":{"today":{"refused":{"spam":0,"dmarc":0,"spf":0,"dnsbl":3,"pregreet":0,"virus":0,"dnstemp":0,"filter-unavailable":0},"deferred":{"spam":0,"dmarc":0,"spf":0,"dnsbl":1,"pregreet":0,"virus":0,"dnstemp":0,"filter-unavailable":0}},"thisOutage":{"refused":{"spam":0,"dmarc":2,"spf":0,"dnsbl":0,"pregreet":0,"virus":0,"dnstemp":0,"filter-unavailable":0},"deferred":{"spam":0,"dmarc":0,"spf":0,"dnsbl":0,"pregreet":0,"virus":0,"dnstemp":0,"filter-unavailable":0}}},"recipients":{"catchAll":[{"domain":"suempresa.test","checkedAt":"2026-12-01T10:00:00+00:00","probe":"x7q@suempresa.test","reply":"250 ok"}]}}""",
            JsonSerializer.Serialize(ApiStatus.From(Sample(), Now), StatusApiJson.Default.ApiStatus));
    }

    [Fact]
    public void TheProgressOfATenantKeepsItsFieldNames()
    {
        ApiProgress? last = ApiProgress.From(Sample().Last, Now);
        Assert.Equal(
            """{"running":false,"current":null,"last":{"host":"mx2.suempresa.test","total":2,"done":1,"delivered":0,"deferred":0,"held":1,"bytes":0,"started":"2026-12-02T09:00:00+00:00","finished":"2026-12-02T09:00:07+00:00","rate":0,"stopReason":"primary lost"},"shown":{"host":"mx2.suempresa.test","total":2,"done":1,"delivered":0,"deferred":0,"held":1,"bytes":0,"started":"2026-12-02T09:00:00+00:00","finished":"2026-12-02T09:00:07+00:00","rate":0,"stopReason":"primary lost"}}""",
            JsonSerializer.Serialize(new ApiProgressState(false, null, last, last), StatusApiJson.Default.ApiProgressState));
        Assert.Equal(
            """{"running":false,"current":null,"last":null,"shown":null}""",
            JsonSerializer.Serialize(StatusApi.Progress(null, Now), StatusApiJson.Default.ApiProgressState));
    }

    [Fact]
    public void TheListsKeepTheirFieldNames()
    {
        StatusApiJson json = StatusApiJson.Default;
        Assert.Equal("""[{"id":"suempresa","name":"Su Empresa"}]""", JsonSerializer.Serialize([new ApiTenant("suempresa", "Su Empresa")], json.IReadOnlyListApiTenant));
        Assert.Equal(
            """[{"address":"info@suempresa.test","messages":3,"bytes":300,"quota":null},{"address":"ventas@suempresa.test","messages":0,"bytes":0,"quota":1000}]""",
            JsonSerializer.Serialize([ApiMailbox.From(new MailboxStatus("info@suempresa.test", 3, 300, null)), ApiMailbox.From(new MailboxStatus("ventas@suempresa.test", 0, 0, 1000))], json.IReadOnlyListApiMailbox));
        Assert.Equal(
            """[{"id":3,"at":"2026-12-02T09:59:00+00:00","host":"mx.suempresa.test","up":false,"stage":"connect","code":421,"reply":"421 busy","latencyMs":12.3,"tls":true}]""",
            JsonSerializer.Serialize([ApiProbe.From(Sample().LastProbe!)], json.IReadOnlyListApiProbe));
        var h = new HandOverRow(11, Now, "info@suempresa.test", "1764669600.M1P2.host", 512, null, "info@suempresa.test", "mx.suempresa.test", "delivered", 250, "250 2.0.0 Ok: queued", 1, 33.3);
        Assert.Equal(
            """[{"id":11,"at":"2026-12-02T10:00:00+00:00","mailbox":"info@suempresa.test","message":"1764669600.M1P2.host","size":512,"sender":null,"recipient":"info@suempresa.test","host":"mx.suempresa.test","outcome":"delivered","code":250,"reply":"250 2.0.0 Ok: queued","attempt":1}]""",
            JsonSerializer.Serialize([ApiHandOver.From(h)], json.IReadOnlyListApiHandOver));
        var a = new AlertRow(5, Now, "down", "Primary down", "sent", 1, null, "failed", 3, "timeout");
        Assert.Equal(
            """[{"id":5,"at":"2026-12-02T10:00:00+00:00","kind":"down","subject":"Primary down","email":"sent","emailAttempts":1,"webhook":"failed","webhookAttempts":3}]""",
            JsonSerializer.Serialize([ApiAlert.From(a)], json.IReadOnlyListApiAlert));
        // The held list is the status's held.list, one object per message.
        string status = JsonSerializer.Serialize(ApiStatus.From(Sample(), Now), json.ApiStatus);
        string held = JsonSerializer.Serialize([.. Sample().Held.Select(ApiHold.From)], json.IReadOnlyListApiHold);
        Assert.Contains("\"list\":" + held + "}", status, StringComparison.Ordinal);
        Assert.Equal("""{"requested":"2026-12-02T10:00:00+00:00"}""", JsonSerializer.Serialize(new ApiHandOverRequested(Now), json.ApiHandOverRequested));
        Assert.Equal("""{"error":"no such tenant"}""", JsonSerializer.Serialize(new ApiError("no such tenant"), json.ApiError));
    }
}
