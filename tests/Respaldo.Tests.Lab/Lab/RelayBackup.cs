using System.Globalization;
using System.Net;

namespace Respaldo.Tests.Lab;

/// <summary>What a <see cref="RelayBackup"/> is built with; each caller keeps what it needs.</summary>
public sealed record RelayBackupOptions
{
    /// <summary>Its own config, queue and data directories go under this one.</summary>
    public required string Directory { get; init; }

    /// <summary>Its SMTP port on 127.0.0.1.</summary>
    public required int Port { get; init; }

    /// <summary>Where it relays to: the lab's primary (or a sink standing in for it).</summary>
    public required IPEndPoint Primary { get; init; }

    public string Hostname { get; init; } = "relay-backup.lab.test";

    /// <summary>relay_domains; the transport table gets each one and its subdomains.</summary>
    public required IReadOnlyList<string> Domains { get; init; }

    /// <summary>relay_recipient_maps: the only recipients it accepts.</summary>
    public required IReadOnlyList<string> Recipients { get; init; }

    public long MessageSizeLimit { get; init; } = 104857600;

    /// <summary>
    /// Hardened against SMTP smuggling as Respaldo's intake is (smtpd_forbid_bare_newline), so
    /// that the two read the same message out of the same bytes: the verbatim comparisons need
    /// it. Off, every such setting is Postfix's default as shipped (the benchmark's reference).
    /// </summary>
    public bool HardenedLikeRespaldo { get; init; }
}

/// <summary>
/// A plain Postfix backup MX, the classic kind: relay_domains for the tenant's domains and a
/// transport to the primary; while the primary is down the mail waits in Postfix's deferred
/// queue, and when it returns the admin runs <c>postqueue -f</c>. It is the reference the
/// hand-over is compared with, byte for byte (integration and chaos tiers) and in time (the
/// benchmark). Concurrency and connection cache are left as shipped. Runs beside the lab's
/// instances with its own config, queue and data directories (always <c>-c DIR</c>;
/// maillog_file + postlogd; nothing chrooted; no DNS).
/// </summary>
public sealed class RelayBackup : IAsyncDisposable
{
    private RelayBackup(string directory, IPEndPoint smtp)
    {
        Directory = directory;
        Smtp = smtp;
    }

    public string Directory { get; }

    public IPEndPoint Smtp { get; }

    public int Port => Smtp.Port;

    public string ConfigDirectory => Path.Combine(Directory, "config");

    private string QueueDirectory => Path.Combine(Directory, "queue");

    public string LogFile => Path.Combine(Directory, "postfix.log");

    /// <summary>
    /// The one beside a lab: in its directory, on port +27 (a port the lab does not use), to its
    /// primary, for the lab's first tenant, hardened like Respaldo; started.
    /// </summary>
    public static async Task<RelayBackup> StartBesideAsync(LabFixture lab)
    {
        int basePort = lab.BackupSmtp.Port - 25;
        RelayBackup relay = await CreateAsync(new RelayBackupOptions
        {
            Directory = Path.Combine(lab.Directory, "plain-relay"),
            Port = basePort + 27,
            Primary = new IPEndPoint(IPAddress.Parse(lab.PrimarySmtp.Host), lab.PrimarySmtp.Port),
            Hostname = "plain-relay.suempresa.test",
            Domains = ["suempresa.test"],
            Recipients = ["info@suempresa.test", "ventas@suempresa.test", "juan@norte.suempresa.test"],
            MessageSizeLimit = 62914560,
            HardenedLikeRespaldo = true,
        });
        await relay.StartAsync();
        return relay;
    }

    /// <summary>Writes its configuration; <see cref="StartAsync"/> starts it.</summary>
    public static async Task<RelayBackup> CreateAsync(RelayBackupOptions options)
    {
        string directory = options.Directory;
        var relay = new RelayBackup(directory, new IPEndPoint(IPAddress.Loopback, options.Port));
        string config = relay.ConfigDirectory;
        System.IO.Directory.CreateDirectory(config);
        System.IO.Directory.CreateDirectory(relay.QueueDirectory);
        string data = Path.Combine(directory, "data");
        System.IO.Directory.CreateDirectory(data);
        await Check(ProcessRunner.RunAsync("chown", ["postfix", data]), "chown");
        string next = string.Create(CultureInfo.InvariantCulture, $"smtp:[{options.Primary.Address}]:{options.Primary.Port}");
        string hardened = options.HardenedLikeRespaldo
            ? """
              smtputf8_enable = yes
              smtpd_forbid_bare_newline = normalize
              smtpd_forbid_bare_newline_exclusions =

              """
            : "";
        await File.WriteAllTextAsync(Path.Combine(config, "main.cf"), string.Create(CultureInfo.InvariantCulture, $"""
            # Relay-mode backup MX: Postfix's own queue is the reference.
            compatibility_level = 3.6
            config_directory = {config}
            queue_directory = {relay.QueueDirectory}
            data_directory = {data}
            maillog_file = {relay.LogFile}
            maillog_file_prefixes = {directory}
            myhostname = {options.Hostname}
            mydestination =
            mynetworks =
            inet_interfaces = all
            inet_protocols = ipv4
            local_recipient_maps =
            relay_domains = {string.Join(' ', options.Domains)}
            relay_recipient_maps = texthash:{config}/recipients
            transport_maps = texthash:{config}/transport
            smtpd_relay_restrictions = reject_unauth_destination
            local_header_rewrite_clients =
            message_size_limit = {options.MessageSizeLimit}
            smtp_dns_support_level = disabled
            smtp_host_lookup = native
            smtpd_peername_lookup = no

            """) + hardened);
        string master = string.Create(CultureInfo.InvariantCulture, $"""
            127.0.0.1:{options.Port} inet n - n - - smtpd
            pickup    unix  n       -       n       60      1       pickup
            cleanup   unix  n       -       n       -       0       cleanup
            qmgr      unix  n       -       n       300     1       qmgr
            rewrite   unix  -       -       n       -       -       trivial-rewrite
            bounce    unix  -       -       n       -       0       bounce
            defer     unix  -       -       n       -       0       bounce
            trace     unix  -       -       n       -       0       bounce
            verify    unix  -       -       n       -       1       verify
            flush     unix  n       -       n       1000?   0       flush
            proxymap  unix  -       -       n       -       -       proxymap
            smtp      unix  -       -       n       -       -       smtp
            showq     unix  n       -       n       -       -       showq
            error     unix  -       -       n       -       -       error
            retry     unix  -       -       n       -       -       error
            discard   unix  -       -       n       -       -       discard
            anvil     unix  -       -       n       -       1       anvil
            scache    unix  -       -       n       -       1       scache
            postlog   unix-dgram n  -       n       -       1       postlogd

            """);
        await File.WriteAllTextAsync(Path.Combine(config, "master.cf"), master);
        await File.WriteAllLinesAsync(Path.Combine(config, "recipients"), options.Recipients.Select(r => $"{r} ok"));
        // Note: relay_domains matches subdomains (parent_domain_matches_subdomains); the
        // transport table needs the ".domain" form for them.
        await File.WriteAllLinesAsync(Path.Combine(config, "transport"), options.Domains.SelectMany(d => new[] { $"{d} {next}", $".{d} {next}" }));
        return relay;
    }

    /// <summary>Starts it unless it runs already.</summary>
    public async Task StartAsync()
    {
        if ((await ProcessRunner.RunAsync("postfix", ["-c", ConfigDirectory, "status"])).ExitCode == 0)
        {
            return;
        }
        ProcessRunner.Result start = await ProcessRunner.RunAsync("postfix", ["-c", ConfigDirectory, "start"]);
        if (start.ExitCode != 0)
        {
            string log = File.Exists(LogFile) ? string.Join('\n', (await File.ReadAllLinesAsync(LogFile)).TakeLast(20)) : "";
            throw new InvalidOperationException($"the relay-mode Postfix did not start: {start}\n{log}");
        }
    }

    /// <summary>Stops it; its queue stays. Stopped, it cannot retry on its own while Respaldo is measured.</summary>
    public async Task StopAsync()
    {
        if (File.Exists(Path.Combine(ConfigDirectory, "main.cf")))
        {
            await ProcessRunner.RunAsync("postfix", ["-c", ConfigDirectory, "stop"]);
        }
    }

    /// <summary>What an admin runs when the primary is back: every deferred message, now.</summary>
    public Task FlushAsync() => Check(ProcessRunner.RunAsync("postqueue", ["-c", ConfigDirectory, "-f"]), "postqueue -f");

    public async Task<bool> QueueEmptyAsync()
    {
        ProcessRunner.Result q = await ProcessRunner.RunAsync("postqueue", ["-c", ConfigDirectory, "-p"]);
        return q.Output.Contains("Mail queue is empty", StringComparison.Ordinal);
    }

    /// <summary>Messages in the deferred queue, and messages anywhere else in the queue (still moving).</summary>
    public (int Deferred, int InFlight) QueueCounts()
    {
        int deferred = CountFiles(Path.Combine(QueueDirectory, "deferred"));
        int moving = new[] { "maildrop", "incoming", "active", "hold" }.Sum(q => CountFiles(Path.Combine(QueueDirectory, q)));
        return (deferred, moving);
    }

    /// <summary>Stops it and removes its directory, queue included.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }

    private static int CountFiles(string dir) =>
        System.IO.Directory.Exists(dir) ? System.IO.Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Count() : 0;

    private static async Task Check(Task<ProcessRunner.Result> run, string what)
    {
        ProcessRunner.Result r = await run;
        if (r.ExitCode != 0)
        {
            throw new InvalidOperationException($"{what} failed: {r}");
        }
    }
}
