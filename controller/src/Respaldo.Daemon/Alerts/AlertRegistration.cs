using System.Threading.Channels;
using Respaldo.Alerts;
using Respaldo.Configuration;
using Respaldo.Status;
using Respaldo.Supervision;

namespace Respaldo.Daemon.Alerts;

internal static class AlertRegistration
{
    /// <summary>Alerts: controller events → <see cref="AlertPolicy"/> → <see cref="AlertDispatcher"/> (e-mail, webhook).</summary>
    public static WebApplicationBuilder AddAlerts(this WebApplicationBuilder builder)
    {
        builder.Services.AddHttpClient("alerts", c => c.Timeout = TimeSpan.FromSeconds(20));
        builder.Services.AddSingleton(sp =>
        {
            RespaldoRuntime runtime = sp.GetRequiredService<RespaldoRuntime>();
            IAlertChannel[] channels =
            [
                new EmailAlertChannel(() => runtime.Settings),
                new WebhookAlertChannel(sp.GetRequiredService<IHttpClientFactory>().CreateClient("alerts")),
            ];
            return new AlertDispatcher(channels, runtime.Journal, id => runtime.Settings.Tenants.FirstOrDefault(t => t.Id == id),
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger("Respaldo.Alerts"));
        });
        builder.Services.AddHostedService<AlertService>();
        return builder;
    }
}

/// <summary>
/// The thin loop: controller events are queued by a listener that returns at once (it runs on
/// the controller's path), then fed to the policy here, with a tick each second for digests and
/// a storage sample every <see cref="StorageSampleInterval"/>. Sending is the dispatcher's own loop.
/// </summary>
internal sealed class AlertService(RespaldoRuntime runtime, AlertDispatcher dispatcher, StatusReader status, TimeProvider time) : BackgroundService
{
    public static readonly TimeSpan StorageSampleInterval = TimeSpan.FromSeconds(30);

    private readonly Channel<ControllerEvent> _events = Channel.CreateUnbounded<ControllerEvent>(new UnboundedChannelOptions { SingleReader = true });

    private void OnEvent(ControllerEvent e) => _events.Writer.TryWrite(e);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var policy = new AlertPolicy(id => runtime.Settings.Tenants.FirstOrDefault(t => t.Id == id)?.AlertDigestInterval ?? TimeSpan.FromMinutes(15));
        runtime.Events.Raised += OnEvent;
        try
        {
            dispatcher.Resume();
            Task sending = dispatcher.RunAsync(stoppingToken);
            using var ticks = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
            DateTimeOffset nextStorage = DateTimeOffset.MinValue;
            Task<bool> tick = ticks.WaitForNextTickAsync(stoppingToken).AsTask();
            while (!stoppingToken.IsCancellationRequested)
            {
                Task<bool> read = _events.Reader.WaitToReadAsync(stoppingToken).AsTask();
                Task first = await Task.WhenAny(read, tick);
                while (_events.Reader.TryRead(out ControllerEvent? e))
                {
                    Submit(policy.Observe(e));
                }
                if (first == tick)
                {
                    if (!await tick)
                    {
                        break;
                    }
                    tick = ticks.WaitForNextTickAsync(stoppingToken).AsTask();
                    DateTimeOffset now = time.GetUtcNow();
                    Submit(policy.Tick(now));
                    if (now >= nextStorage)
                    {
                        nextStorage = now + StorageSampleInterval;
                        SampleStorage(policy, now);
                    }
                }
            }
            await sending;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown: alerts not yet sent stay "pending" in the journal and are resumed at start.
        }
        finally
        {
            runtime.Events.Raised -= OnEvent;
        }
    }

    private void Submit(IReadOnlyList<Alert> alerts)
    {
        foreach (Alert a in alerts)
        {
            dispatcher.Submit(a);
        }
    }

    private void SampleStorage(AlertPolicy policy, DateTimeOffset now)
    {
        foreach (Tenant tenant in runtime.Settings.Tenants)
        {
            (_, long waiting) = runtime.Supervisor.Index.Totals(tenant.Id);
            long held = status.Holds(tenant.Id, "held").Sum(h => h.Size);
            StorageStatus s = status.Storage(tenant, waiting + held);
            Submit(policy.ObserveStorage(tenant.Id, now, s.Fraction, s.Used, s.Limit, s.DiskFree, s.DiskLow));
        }
    }
}
