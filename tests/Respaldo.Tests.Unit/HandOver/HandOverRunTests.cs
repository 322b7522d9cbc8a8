using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Respaldo.Configuration;
using Respaldo.HandOver;
using Respaldo.Mailboxes;
using Respaldo.Supervision;
using Respaldo.Tests.Smtp;

namespace Respaldo.Tests.HandOver;

/// <summary>A hand-over run against a scripted primary, when the journal cannot record what the primary took.</summary>
public sealed class HandOverRunTests : IAsyncDisposable
{
    private readonly ScriptedPrimary _primary = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("respaldo-run-").FullName;
    private readonly RespaldoSettings _settings;
    private readonly global::Respaldo.Journal.Journal _journal;

    public HandOverRunTests()
    {
        string json = $$"""
            {
              "hostname": "mail-backup.suempresa.test",
              "stateDirectory": "{{_dir}}",
              "storage": { "allocation": "1GB", "minimumFree": "1000" },
              "tenants": [
                {
                  "id": "suempresa",
                  "domains": ["suempresa.test"],
                  "primary": { "hosts": ["127.0.0.1:{{_primary.Port}}"], "tls": "none", "connections": 1 },
                  "mailboxes": [ { "address": "info@suempresa.test" } ]
                }
              ]
            }
            """;
        (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) = ConfigurationLoader.Parse(Encoding.UTF8.GetBytes(json), "/test.json");
        Assert.True(settings is not null, string.Join("; ", errors));
        _settings = settings;
        _journal = global::Respaldo.Journal.Journal.Open(settings.JournalPath, NullLogger.Instance);
    }

    public async ValueTask DisposeAsync()
    {
        await _journal.DisposeAsync();
        await _primary.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private List<WaitingMessage> Store(int count)
    {
        string maildir = Path.Combine(_settings.MaildirRoot, "suempresa.test", "info");
        string dir = Path.Combine(maildir, "new");
        Directory.CreateDirectory(dir);
        var list = new List<WaitingMessage>();
        for (int i = 0; i < count; i++)
        {
            string name = $"17958051{i:D2}.M930396P6829.vm,S=300,W=310";
            string content = "Return-Path: <sender@example.org>\nDelivered-To: info@suempresa.test\n" +
                $"Received: from x\n\tby mail-backup.suempresa.test with LMTP\n\tid {i}\n\nSubject: {i}\n\nbody {i}\n";
            string path = Path.Combine(dir, name);
            File.WriteAllText(path, content);
            list.Add(new WaitingMessage("suempresa", "info@suempresa.test", maildir, name, path, content.Length, DateTimeOffset.UnixEpoch));
        }
        return list;
    }

    [Fact]
    public async Task ADeliveryTheJournalCannotRecordKeepsItsCopyWaitsItsRetryAndStopsTheRun()
    {
        List<WaitingMessage> waiting = Store(20);
        var index = new MailboxIndex(["suempresa"]);
        foreach (WaitingMessage m in waiting)
        {
            index.Upsert(m);
        }
        // Note: a closed journal fails every write at once, as a full disk fails them (SQLITE_FULL).
        await _journal.DisposeAsync();
        var retries = new RetrySchedule(TimeSpan.FromMinutes(10));
        var context = new HandOverContext(_settings, _journal, index, new HoldArea(_settings.HoldRoot), retries, new ControllerEvents(), TimeProvider.System, NullLogger.Instance);
        Tenant tenant = _settings.Tenants[0];

        HandOverProgress progress = await new HandOverRun(tenant, tenant.Primary.Hosts[0], waiting, context).ExecuteAsync(CancellationToken.None);

        // Every copy is kept; those the primary took are not due again at once (they were, and each
        // pass of the supervisor delivered them again: hundreds of duplicates a minute); the run
        // stopped instead of delivering what it could not record.
        Assert.All(waiting, m => Assert.True(File.Exists(m.Path), $"{m.BaseName} was deleted"));
        int sent = _primary.Messages.Count;
        // Note: the run stops when the first record fails, but the journal reports failures
        // asynchronously: on a fast primary the whole batch can be out before the first one is
        // noticed (seen: 6 and 20 of 20). What must hold is below: every copy kept, none of the
        // sent ones due again at once, and the run's stop reason.
        Assert.InRange(sent, 1, waiting.Count);
        DateTimeOffset now = DateTimeOffset.UtcNow;
        Assert.Equal(sent, waiting.Count(m => !retries.IsDue(m.Key, now)));
        Assert.Contains("journal cannot record", progress.StopReason, StringComparison.Ordinal);
    }
}
