using System.Net;
using Prometheus;
using Respaldo.Configuration;
using Respaldo.Daemon.Web.Dashboard;
using Respaldo.Journaling;
using Respaldo.Primary;
using Respaldo.Status;
using Respaldo.Supervision;

namespace Respaldo.Daemon.Web.Metrics;

/// <summary>
/// /metrics for Prometheus: series named respaldo_*, labelled by tenant, refreshed from the same
/// <see cref="StatusReader"/> the dashboard uses at every scrape (so both always agree).
/// Counters come from the journal, so they survive restarts. Open to loopback clients;
/// from anywhere else a provider-level API token is required (the series name every tenant).
/// </summary>
internal static class MetricsRegistration
{
    private static readonly string[] Outcomes = ["delivered", "deferred", "held"];

    public static WebApplication MapMetricsEndpoint(this WebApplication app)
    {
        CollectorRegistry registry = Prometheus.Metrics.NewCustomRegistry();
        MetricFactory f = Prometheus.Metrics.WithCustomRegistry(registry);
        string[] tenant = ["tenant"];
        Gauge waiting = f.CreateGauge("respaldo_messages_waiting", "Messages waiting at the backup for the primary.", tenant);
        Gauge waitingBytes = f.CreateGauge("respaldo_bytes_waiting", "Bytes waiting at the backup for the primary.", tenant);
        Gauge held = f.CreateGauge("respaldo_messages_held", "Messages held after a permanent refusal, awaiting a decision.", tenant);
        Gauge up = f.CreateGauge("respaldo_primary_up", "1 when the primary accepted mail at the last probe, 0 when it did not or is not known.", tenant);
        Gauge storageUsed = f.CreateGauge("respaldo_storage_used_bytes", "Storage used by the tenant's mail at the backup (waiting + held).", tenant);
        Gauge storageLimit = f.CreateGauge("respaldo_storage_allocation_bytes", "The tenant's storage allocation.", tenant);
        Gauge diskFree = f.CreateGauge("respaldo_disk_free_bytes", "Free space on the state directory's filesystem.");
        Counter handovers = f.CreateCounter("respaldo_handovers_total", "Hand-over attempts by outcome (delivered, deferred, held).", ["tenant", "outcome"]);
        Counter probes = f.CreateCounter("respaldo_probes_total", "Probes of the primary by result (up, down).", ["tenant", "result"]);
        Counter latency = f.CreateCounter("respaldo_probe_latency_seconds_total", "Sum of probe latencies; divide by respaldo_probes_total for the mean.", tenant);
        Gauge lastLatency = f.CreateGauge("respaldo_probe_last_latency_seconds", "Latency of the last probe.", tenant);
        Counter received = f.CreateCounter("respaldo_messages_received_total", "Messages stored at the backup.", tenant);
        Counter refused = f.CreateCounter("respaldo_intake_refused_total", "Messages the border refused (5xx) during the SMTP session, by reason.", ["tenant", "reason"]);
        Counter deferred = f.CreateCounter("respaldo_intake_deferred_total", "Messages the border deferred (4xx) during the SMTP session, by reason.", ["tenant", "reason"]);
        Gauge orphaned = f.CreateGauge("respaldo_orphaned_messages", "Stored messages no configured tenant owns (a removed tenant or domain): kept, not handed over. place: maildirs (name = domain) or held (name = tenant id).", ["place", "name"]);
        Gauge oldest = f.CreateGauge("respaldo_oldest_waiting_message_age_seconds", "Age of the tenant's oldest waiting message (0 when nothing waits).", tenant);
        Histogram duration = f.CreateHistogram("respaldo_handover_duration_seconds",
            "Time one message's hand-over took, from MAIL FROM to the primary's last reply, by outcome (since the daemon started).",
            new HistogramConfiguration { LabelNames = ["tenant", "outcome"], Buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] });
        Histogram size = f.CreateHistogram("respaldo_handover_message_bytes", "Size of each message handed over (delivered), since the daemon started.",
            new HistogramConfiguration { LabelNames = tenant, Buckets = Histogram.ExponentialBuckets(1024, 4, 9) });
        Gauge setupCheck = f.CreateGauge("respaldo_setup_check",
            "The last set-up check (respaldoctl doctor): 1 when every subject of the check is ok, 0 when one is warning, failing or could not be checked.", ["tenant", "check"]);
        var setupLabels = new HashSet<(string, string)>();
        Gauge drillSuccess = f.CreateGauge("respaldo_drill_last_success_timestamp_seconds",
            "When the tenant's last fire drill passed (the primary's 250 for it), unix seconds; 0 when none has. Only tenants with tenants[].drill.", tenant);
        var drillLabels = new HashSet<string>(StringComparer.Ordinal);
        Gauge buildInfo = f.CreateGauge("respaldo_build_info", "Always 1; the running daemon's version, commit and .NET runtime as labels.", ["version", "revision", "runtime"]);
        (string version, string revision) = Respaldo.Daemon.Hosting.DaemonCommandLine.Stamp;
        buildInfo.WithLabels(version, revision, System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription).Set(1);
        var orphanLabels = new HashSet<(string, string)>();
        Gauge connections = f.CreateGauge("respaldo_handover_connections",
            "The node's hand-over connections, all tenants together: state=open (each holds one of controller.maxConnections) or waiting (a tenant's connection waiting for one to close).", ["state"]);
        Gauge connectionsLimit = f.CreateGauge("respaldo_handover_connections_limit", "controller.maxConnections: hand-over connections open at once on the node.");

        StatusReader status = app.Services.GetRequiredService<StatusReader>();
        Respaldo.Continuity.SetupReports setupReports = app.Services.GetRequiredService<Respaldo.Continuity.SetupReports>();
        RespaldoRuntime runtime = app.Services.GetRequiredService<RespaldoRuntime>();
        TimeProvider time = app.Services.GetRequiredService<TimeProvider>();
        runtime.Events.Raised += e =>
        {
            if (e is Respaldo.Events.MessageAttempted a)
            {
                duration.WithLabels(a.TenantId, a.Outcome).Observe(a.Duration.TotalSeconds);
                if (a.Outcome == "delivered")
                {
                    size.WithLabels(a.TenantId).Observe(a.Bytes);
                }
            }
        };
        registry.AddBeforeCollectCallback(() =>
        {
            var configured = runtime.Settings.Tenants.Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
            Respaldo.HandOver.ConnectionSlots slots = runtime.Supervisor.Slots;
            connections.WithLabels("open").Set(slots.InUse);
            connections.WithLabels("waiting").Set(slots.Waiting);
            connectionsLimit.Set(slots.Limit);
            // Note: a place no longer orphaned (the tenant re-added, the copies moved) reads 0, not its last count.
            foreach ((string place, string name) in orphanLabels)
            {
                orphaned.WithLabels(place, name).Set(0);
            }
            foreach (Respaldo.Mailboxes.OrphanedMail o in runtime.Supervisor.Orphans)
            {
                orphanLabels.Add((o.Place, o.Name));
                orphaned.WithLabels(o.Place, o.Name).Set(o.Messages);
            }
            foreach (Respaldo.Journaling.VerdictCount v in status.BorderTotals().Where(v => configured.Contains(v.TenantId)))
            {
                (v.Permanent ? refused : deferred).WithLabels(v.TenantId, v.Reason).IncTo(v.Count);
            }
            // Note: a check no longer reported (a tenant removed, a check that no longer applies) loses its series.
            var setupNow = new HashSet<(string, string)>();
            foreach (Tenant t in runtime.Settings.Tenants)
            {
                if (setupReports.Last(t.Id) is not { } report)
                {
                    continue;
                }
                foreach ((string check, bool ok) in report.OkById())
                {
                    setupNow.Add((t.Id, check));
                    setupCheck.WithLabels(t.Id, check).Set(ok ? 1 : 0);
                }
            }
            foreach ((string tenantId, string check) in setupLabels.Except(setupNow))
            {
                setupCheck.RemoveLabelled(tenantId, check);
            }
            setupLabels.Clear();
            setupLabels.UnionWith(setupNow);
            // Note: read from the journal at each scrape (one grouped query), so a restart keeps it.
            IReadOnlyDictionary<string, DateTimeOffset> passed = runtime.Journal.LastPassedDrills();
            var drillNow = runtime.Settings.Tenants.Where(t => t.Drill is not null).Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
            foreach (string id in drillNow)
            {
                drillSuccess.WithLabels(id).Set(passed.TryGetValue(id, out DateTimeOffset at) ? at.ToUnixTimeMilliseconds() / 1000.0 : 0);
            }
            foreach (string gone in drillLabels.Except(drillNow))
            {
                drillSuccess.RemoveLabelled(gone);
            }
            drillLabels.Clear();
            drillLabels.UnionWith(drillNow);
            foreach (Tenant t in runtime.Settings.Tenants)
            {
                if (status.Read(t.Id) is not { } s)
                {
                    continue;
                }
                waiting.WithLabels(t.Id).Set(s.Waiting);
                waitingBytes.WithLabels(t.Id).Set(s.WaitingBytes);
                held.WithLabels(t.Id).Set(s.HeldCount);
                up.WithLabels(t.Id).Set(s.Primary == PrimaryStatus.Up ? 1 : 0);
                storageUsed.WithLabels(t.Id).Set(s.Storage.Used);
                storageLimit.WithLabels(t.Id).Set(s.Storage.Limit);
                diskFree.Set(s.Storage.DiskFree);
                IReadOnlyDictionary<string, long> outcomes = status.HandOverTotals(t.Id);
                foreach (string outcome in Outcomes)
                {
                    handovers.WithLabels(t.Id, outcome).IncTo(outcomes.GetValueOrDefault(outcome));
                }
                ProbeTotals p = status.ProbeTotals(t.Id);
                probes.WithLabels(t.Id, "up").IncTo(p.Up);
                probes.WithLabels(t.Id, "down").IncTo(p.Down);
                latency.WithLabels(t.Id).IncTo(p.LatencySecondsSum);
                lastLatency.WithLabels(t.Id).Set((s.LastProbe?.LatencyMs ?? 0) / 1000);
                received.WithLabels(t.Id).IncTo(status.ReceivedTotal(t.Id));
                DateTimeOffset? since = runtime.Supervisor.Index.OldestArrival(t.Id);
                oldest.WithLabels(t.Id).Set(since is { } at ? Math.Max(0, (time.GetUtcNow() - at).TotalSeconds) : 0);
            }
        });
        app.Use(async (http, next) =>
        {
            // Note: routing matches /METRICS and /metrics/ too: so must this check.
            if (http.Request.Path.StartsWithSegments("/metrics", StringComparison.OrdinalIgnoreCase)
                && !(http.Connection.RemoteIpAddress is { } ip && IPAddress.IsLoopback(ip)))
            {
                Microsoft.AspNetCore.Authentication.AuthenticateResult auth =
                    await Microsoft.AspNetCore.Authentication.AuthenticationHttpContextExtensions.AuthenticateAsync(http, DashboardAccess.TokenScheme);
                if (!auth.Succeeded || !DashboardAccess.IsAdmin(auth.Principal!))
                {
                    http.Response.StatusCode = StatusCodes.Status403Forbidden;
                    return;
                }
            }
            await next(http);
        });
        app.MapMetrics("/metrics", registry);
        return app;
    }
}
