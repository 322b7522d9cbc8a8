using System.Text;
using System.Xml.Linq;
using Respaldo.Bounces;
using Respaldo.Configuration;
using Respaldo.ControlBus;
using Respaldo.Daemon.Systemd;
using Respaldo.HandOver;
using Respaldo.Primary;
using Respaldo.Supervision;
using Tmds.DBus.Protocol;
using Respaldo.Holds;
using Respaldo.Continuity;
using Respaldo.Daemon.Continuity;

namespace Respaldo.Daemon.ControlBus;

/// <summary>
/// /es/respaldo/Control: the methods of es.respaldo.Control1. Each call is checked against
/// the contract (its signature, whether it is privileged) before it runs; privileged calls
/// need root or respaldo-admin (<see cref="CallerCheck"/>). The work is done by the runtime,
/// the supervisor and <see cref="HeldMessages"/>: this class only translates.
/// </summary>
internal sealed partial class ControlObject(
    RespaldoRuntime runtime,
    HeldMessages held,
    SetupCheckRunner setup,
    SetupReports setupReports,
    Drills.DrillRunner drills,
    ConfigurationReloader reloader,
    TimeProvider time,
    ILogger<ControlObject> logger) : IPathMethodHandler
{
    private static readonly ControlContract Contract = ControlContract.Current;

    /// <summary>The interface element of the contract, as Introspect returns it (with the standard interfaces).</summary>
    private static readonly ReadOnlyMemory<byte> InterfaceXml = Encoding.UTF8.GetBytes(
        XDocument.Parse(Contract.Xml).Root!.Elements("interface").Single().ToString());

    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromMinutes(5);

    public string Path => ControlContract.ObjectPath;

    public bool HandlesChildPaths => false;

    public async ValueTask HandleMethodAsync(MethodContext context)
    {
        Message request = context.Request;
        if (context.IsDBusIntrospectRequest)
        {
            context.ReplyIntrospectXml([InterfaceXml, IntrospectionXml.DBusIntrospectable, IntrospectionXml.DBusPeer]);
            return;
        }
        if (request.InterfaceAsString != ControlContract.Interface
            || !Contract.Methods.TryGetValue(request.MemberAsString ?? "", out ControlContract.Method? method))
        {
            context.ReplyUnknownMethodError();
            return;
        }
        if ((request.SignatureAsString ?? "") != method.InSignature)
        {
            context.ReplyError("org.freedesktop.DBus.Error.InvalidArgs", $"{method.Name} takes ({method.InSignature})");
            return;
        }
        // Note: arguments are read before the first await; the reader lives on the request buffer.
        string tenantArg = method.InSignature == "s" ? request.GetBodyReader().ReadString() : "";
        long idArg = method.InSignature == "x" ? request.GetBodyReader().ReadInt64() : 0;
        string sender = request.SenderAsString ?? "";
        if (method.Privileged)
        {
            Caller caller = await CallerCheck.IdentifyAsync(context.Connection, sender);
            if (!CallerCheck.IsAdmin(caller))
            {
                LogRefused(logger, method.Name, caller.ToString());
                context.ReplyError(ControlContract.Errors.AccessDenied,
                    $"{method.Name} changes the controller: it needs root or the group {ControlContract.AdminGroup}");
                return;
            }
            LogCalled(logger, method.Name, caller.ToString(), tenantArg.Length > 0 ? tenantArg : idArg.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        try
        {
            await DispatchAsync(context, method, tenantArg, idArg);
        }
        catch (UnknownTenantException e)
        {
            context.ReplyError(ControlContract.Errors.UnknownTenant, e.Message);
        }
        catch (NotHeldException e)
        {
            context.ReplyError(ControlContract.Errors.NotHeld, e.Message);
        }
        catch (BounceNotSentException e)
        {
            context.ReplyError(ControlContract.Errors.NotAvailable, e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException or OperationCanceledException)
        {
            LogFailed(logger, method.Name, e.Message);
            context.ReplyError(ControlContract.Errors.Failed, $"{method.Name} failed: {e.Message}");
        }
    }

    private async Task DispatchAsync(MethodContext context, ControlContract.Method method, string tenant, long id)
    {
        switch (method.Name)
        {
            case "GetStatus":
                ReplyStatus(context, method);
                break;
            case "ListWaiting":
            {
                Supervisor supervisor = runtime.Supervisor;
                var records = Select(supervisor, tenant).SelectMany(t => supervisor.Index.Snapshot(t.Tenant.Id)).Select(Records.Waiting).ToList();
                ReplyRecords(context, method, records);
                break;
            }
            case "ListHeld":
                _ = Select(runtime.Supervisor, tenant);
                ReplyRecords(context, method, held.List(tenant).Select(Records.Held).ToList());
                break;
            case "HandOverNow":
            {
                List<TenantSupervisor> tenants = Select(runtime.Supervisor, tenant);
                long at = time.GetUtcNow().ToUnixTimeMilliseconds();
                foreach (TenantSupervisor t in tenants)
                {
                    t.HandOverNow();
                }
                using MessageWriter writer = context.CreateReplyWriter(method.OutSignature);
                writer.WriteArray(tenants.Select(t => t.Tenant.Id).ToArray());
                writer.WriteInt64(at);
                context.Reply(writer.CreateMessage());
                break;
            }
            case "ProbeNow":
            {
                var results = new List<Record>();
                using var timeout = new CancellationTokenSource(ProbeTimeout);
                foreach (TenantSupervisor t in Select(runtime.Supervisor, tenant))
                {
                    foreach (ProbeResult r in await t.ProbeNowAsync(timeout.Token))
                    {
                        Record record = Records.Probe(r);
                        record.Add("tenant", t.Tenant.Id);
                        results.Add(record);
                    }
                }
                ReplyRecords(context, method, results);
                break;
            }
            case "CheckSetup":
            {
                List<Configuration.Tenant> tenants = Select(runtime.Supervisor, tenant).Select(t => t.Tenant).ToList();
                IReadOnlyList<SetupReport> reports = await setup.RunAsync(tenants, CancellationToken.None);
                ReplyRecords(context, method, reports.SelectMany(Records.SetupChecks).ToList());
                break;
            }
            case "RunDrill":
            {
                TenantSupervisor t = tenant.Length > 0 ? Select(runtime.Supervisor, tenant)[0] : throw new UnknownTenantException("a drill is of one tenant: name it");
                if (t.Tenant.Drill is null)
                {
                    context.ReplyError(ControlContract.Errors.NotAvailable, $"tenant {t.Tenant.Id} has no drill: set tenants[].drill.address in {runtime.Settings.SourcePath}");
                    break;
                }
                Respaldo.Drills.DrillResult result = await drills.RunAsync(t.Tenant, CancellationToken.None);
                ReplyRecords(context, method, [Records.Drill(result)]);
                break;
            }
            case "GetSetupChecks":
            {
                var reports = Select(runtime.Supervisor, tenant).Select(t => setupReports.Last(t.Tenant.Id)).OfType<SetupReport>();
                ReplyRecords(context, method, reports.SelectMany(Records.SetupChecks).ToList());
                break;
            }
            case "Release":
            {
                string path = await held.ReleaseAsync(id, CancellationToken.None);
                ReplyString(context, method, path);
                break;
            }
            case "Bounce":
            {
                // Note: Bounce is privileged (root or respaldo-admin): an admin may bounce to a
                // sender the border did not verify; the log says so.
                BounceOutcome outcome = await held.BounceAsync(id, byAdmin: true, CancellationToken.None);
                if (outcome.Verdict != SenderVerdict.Aligned && outcome.Notified is { } to)
                {
                    LogUnverifiedBounce(logger, id, to);
                }
                ReplyString(context, method, outcome.Notified ?? "");
                break;
            }
            case "Reload":
            {
                IReadOnlyList<ConfigurationError> errors = await reloader.ReloadAsync("the control bus", CancellationToken.None);
                using MessageWriter writer = context.CreateReplyWriter(method.OutSignature);
                writer.WriteArray(errors.Select(e => e.ToString()).ToArray());
                context.Reply(writer.CreateMessage());
                break;
            }
            default:
                // Note: a method in the contract without a case here is a build mistake; the
                // contract test (ControlContractTests) keeps the two lists equal.
                context.ReplyError(ControlContract.Errors.NotAvailable, $"{method.Name} is not implemented by this daemon");
                break;
        }
    }

    private void ReplyStatus(MethodContext context, ControlContract.Method method)
    {
        Supervisor supervisor = runtime.Supervisor;
        DateTimeOffset now = time.GetUtcNow();
        Dictionary<string, int> heldCounts = held.List("").GroupBy(h => h.TenantId).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var daemon = new Record
        {
            { "version", typeof(ControlObject).Assembly.GetName().Version?.ToString() ?? "" },
            { "config", runtime.Settings.SourcePath },
            { "loaded_at", Record.Millis(runtime.LoadedAt) },
            { "started_at", Record.Millis(System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime()) },
            { "pid", (uint)Environment.ProcessId },
            { "reload_problem", reloader.Problem ?? "" },
        };
        var tenants = supervisor.Tenants.OrderBy(t => t.Tenant.Id, StringComparer.Ordinal)
            .Select(t => Records.Tenant(t, supervisor, heldCounts.GetValueOrDefault(t.Tenant.Id), now)).ToList();
        MessageWriter writer = context.CreateReplyWriter(method.OutSignature);
        try
        {
            writer.WriteDictionary(daemon);
            Records.WriteRecords(ref writer, tenants);
            context.Reply(writer.CreateMessage());
        }
        finally
        {
            writer.Dispose();
        }
    }

    private static void ReplyRecords(MethodContext context, ControlContract.Method method, List<Record> records)
    {
        MessageWriter writer = context.CreateReplyWriter(method.OutSignature);
        try
        {
            Records.WriteRecords(ref writer, records);
            context.Reply(writer.CreateMessage());
        }
        finally
        {
            writer.Dispose();
        }
    }

    private static void ReplyString(MethodContext context, ControlContract.Method method, string value)
    {
        using MessageWriter writer = context.CreateReplyWriter(method.OutSignature);
        writer.WriteString(value);
        context.Reply(writer.CreateMessage());
    }

    private static List<TenantSupervisor> Select(Supervisor supervisor, string tenant)
    {
        if (tenant.Length == 0)
        {
            return supervisor.Tenants.OrderBy(t => t.Tenant.Id, StringComparer.Ordinal).ToList();
        }
        return supervisor.Find(tenant) is { } one ? [one] : throw new UnknownTenantException($"no tenant '{tenant}' in {supervisor.Settings.SourcePath}");
    }

    [LoggerMessage(EventId = 1801, Level = LogLevel.Warning, Message = "control bus: {Method} refused to {Caller}: not root, not in respaldo-admin")]
    private static partial void LogRefused(ILogger logger, string method, string caller);

    [LoggerMessage(EventId = 1802, Level = LogLevel.Information, Message = "control bus: {Method} ({Argument}) by {Caller}")]
    private static partial void LogCalled(ILogger logger, string method, string caller, string argument);

    [LoggerMessage(EventId = 1809, Level = LogLevel.Warning, Message = "control bus: held message {Id} bounced to {Sender}, whom the border did not verify (SPF or DKIM)")]
    private static partial void LogUnverifiedBounce(ILogger logger, long id, string sender);

    [LoggerMessage(EventId = 1803, Level = LogLevel.Error, Message = "control bus: {Method} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string method, string reason);
}

/// <summary>A tenant id the configuration does not have.</summary>
internal sealed class UnknownTenantException : Exception
{
    public UnknownTenantException() { }

    public UnknownTenantException(string message) : base(message) { }

    public UnknownTenantException(string message, Exception inner) : base(message, inner) { }
}
