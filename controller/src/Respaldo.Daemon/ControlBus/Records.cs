using Respaldo.HandOver;
using Respaldo.Journaling;
using Respaldo.Mailboxes;
using Respaldo.Primary;
using Respaldo.Supervision;
using Tmds.DBus.Protocol;
using Respaldo.Events;
using Respaldo.Continuity;

namespace Respaldo.Daemon.ControlBus;

/// <summary>An a{sv} record of the contract; keys as documented in es.respaldo.Control1.xml.</summary>
internal sealed class Record : List<KeyValuePair<string, VariantValue>>
{
    public void Add(string key, VariantValue value) => Add(new KeyValuePair<string, VariantValue>(key, value));

    public static long Millis(DateTimeOffset? at) => at?.ToUnixTimeMilliseconds() ?? 0;
}

/// <summary>Turns the controller's state into the contract's records.</summary>
internal static class Records
{
    public static Record Tenant(TenantSupervisor t, Supervisor supervisor, int held, DateTimeOffset now)
    {
        (int count, long bytes) = supervisor.Index.Totals(t.Tenant.Id);
        PrimaryState state = t.State;
        var r = new Record
        {
            { "id", t.Tenant.Id },
            { "name", t.Tenant.Name },
            { "primary", t.Tenant.Primary.Hosts.Count > 0 ? t.Tenant.Primary.Hosts[0].ToString() : "" },
            { "primary_state", state.Status.ToString().ToLowerInvariant() },
            { "primary_since", Record.Millis(state.Since) },
            { "last_probe_at", Record.Millis(state.LastProbe?.At) },
            { "last_probe_reply", state.LastProbe is { } p ? (p.Reply?.OneLine ?? p.Reason) : "" },
            { "waiting", count },
            { "waiting_bytes", bytes },
            { "held", held },
            { "running", t.Current is not null },
        };
        if (t.Current is { } run)
        {
            r.Add("run_started", Record.Millis(run.Started));
            r.Add("run_total", run.Total);
            r.Add("run_delivered", run.Delivered);
            r.Add("run_deferred", run.Deferred);
            r.Add("run_held", run.Held);
            r.Add("run_rate", run.Rate(now));
        }
        if (t.Last is { } last)
        {
            r.Add("last_started", Record.Millis(last.Started));
            r.Add("last_finished", Record.Millis(last.Finished));
            r.Add("last_total", last.Total);
            r.Add("last_delivered", last.Delivered);
            r.Add("last_deferred", last.Deferred);
            r.Add("last_held", last.Held);
            r.Add("last_stop_reason", last.StopReason ?? "");
        }
        return r;
    }

    public static Record Progress(HandOverProgress p) => new()
    {
        { "host", p.Host },
        { "total", p.Total },
        { "delivered", p.Delivered },
        { "deferred", p.Deferred },
        { "held", p.Held },
        { "started", Record.Millis(p.Started) },
        { "finished", Record.Millis(p.Finished) },
        { "stop_reason", p.StopReason ?? "" },
    };

    public static Record Waiting(WaitingMessage m) => new()
    {
        { "tenant", m.TenantId },
        { "mailbox", m.Mailbox },
        { "message", m.BaseName },
        { "size", m.Size },
        { "arrived", Record.Millis(m.Arrived) },
    };

    public static Record Held(HoldRow h) => new()
    {
        { "id", h.Id },
        { "tenant", h.TenantId },
        { "mailbox", h.Mailbox },
        { "message", h.Message },
        { "size", h.Size },
        { "sender", h.Sender ?? "" },
        { "recipient", h.Recipient ?? "" },
        { "reason", h.Reason },
        { "code", h.Code ?? 0 },
        { "held_at", Record.Millis(h.At) },
    };

    public static Record Probe(ProbeResult p) => new()
    {
        { "host", p.Host.ToString() },
        { "up", p.Up },
        { "stage", p.Stage.ToString() },
        { "code", p.Reply?.Code ?? 0 },
        { "reply", p.Reply?.OneLine ?? p.Reason },
        { "latency_ms", p.Latency.TotalMilliseconds },
        { "tls", p.Tls },
    };

    /// <summary>One record per check of <paramref name="report"/>.</summary>
    public static IEnumerable<Record> SetupChecks(SetupReport report) => report.Checks.Select(c => new Record
    {
        { "tenant", report.TenantId },
        { "check", c.Id },
        { "subject", c.Subject },
        { "status", c.StatusText },
        { "seen", c.Seen },
        { "why", c.Why },
        { "fix", c.Fix },
        { "checked_at", Record.Millis(report.CheckedAt) },
    });

    public static Record Drill(Respaldo.Drills.DrillResult d) => new()
    {
        { "tenant", d.TenantId },
        { "drill", d.Id },
        { "address", d.Address },
        { "outcome", d.OutcomeText },
        { "step", d.Step },
        { "reason", d.Reason },
        { "started_at", Record.Millis(d.Started) },
        { "accepted_at", Record.Millis(d.Accepted) },
        { "stored_at", Record.Millis(d.Stored) },
        { "seen_at", Record.Millis(d.Seen) },
        { "handed_over_at", Record.Millis(d.HandedOver) },
    };

    public static void WriteRecords(ref MessageWriter writer, IEnumerable<Record> records)
    {
        ArrayStart start = writer.WriteArrayStart(DBusType.Array);
        foreach (Record r in records)
        {
            writer.WriteDictionary(r);
        }
        writer.WriteArrayEnd(start);
    }
}
