using Respaldo.Border;
using Respaldo.Configuration;
using Respaldo.Journaling;
using Respaldo.Mailboxes;
using Respaldo.Supervision;

namespace Respaldo.Daemon.Border;

internal static class BorderRegistration
{
    /// <summary>The border's verdicts: Postfix's log → <see cref="PostfixLogParser"/> → journal table verdicts.</summary>
    public static WebApplicationBuilder AddBorder(this WebApplicationBuilder builder)
    {
        builder.Services.AddHostedService<BorderLogService>();
        return builder;
    }
}

/// <summary>
/// The thin loop: once a second, the lines Postfix appended to postfix.logFile are read, the
/// border's refusals and deferrals among them journaled under the recipient's tenant. Without
/// a log file (Postfix logging to syslog) there is nothing to read and the counts stay empty,
/// which the log says once at start.
/// </summary>
internal sealed partial class BorderLogService(RespaldoRuntime runtime, TimeProvider time, ILogger<BorderLogService> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        RespaldoSettings settings = runtime.Settings;
        if (settings.Postfix.LogFile is not { } logFile)
        {
            LogNoLogFile(logger);
            return;
        }
        var reader = new PostfixLogReader(logFile, Path.Combine(settings.StateDirectory, "border", "postfix-log.position"));
        TenantDirectory tenants = new(settings.Tenants);
        bool failing = false;
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (!ReferenceEquals(settings, runtime.Settings))
            {
                settings = runtime.Settings;
                tenants = new TenantDirectory(settings.Tenants);
            }
            try
            {
                IReadOnlyList<string> lines = reader.ReadNew();
                var writes = new List<Task>();
                DateTimeOffset now = time.GetUtcNow();
                foreach (string line in lines)
                {
                    if (PostfixLogParser.Parse(line, now) is not { } v)
                    {
                        continue;
                    }
                    string tenant = v.RecipientDomain is { } d && tenants.ForDomain(d) is { } t ? t.Id : "";
                    LogVerdict(logger, tenant, v.Reason.Label(), v.Code, v.Client ?? "?");
                    writes.Add(runtime.Journal.RecordVerdictAsync(new VerdictRecord(
                        v.At, tenant, v.Reason.Label(), v.Permanent, v.Code, v.Recipient, v.Sender, v.Client)));
                }
                await Task.WhenAll(writes);
                reader.SavePosition();
                failing = false;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
            {
                // Note: a log that cannot be read now (rotated away, permissions) costs only
                // counts; the border itself is Postfix's and rspamd's and goes on deciding.
                if (!failing)
                {
                    LogReadFailed(logger, logFile, e.Message);
                }
                failing = true;
            }
        }
    }

    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "border: postfix.logFile is not set (Postfix logs to syslog): refusals are not counted")]
    private static partial void LogNoLogFile(ILogger logger);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "border: tenant {Tenant}: {Reason} ({Code}) from {Client}")]
    private static partial void LogVerdict(ILogger logger, string tenant, string reason, string code, string client);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "border: cannot read {LogFile} ({Error}): refusals are not counted until it can")]
    private static partial void LogReadFailed(ILogger logger, string logFile, string error);
}
