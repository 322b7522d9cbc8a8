using System.Globalization;
using System.Net;
using Respaldo.Tests.Lab;

namespace Respaldo.Bench;

/// <summary>
/// The reference: Postfix as the classic backup MX. relay_domains for the tenant's domains and
/// a transport to the primary; while the primary is down the mail waits in Postfix's deferred
/// queue, and when it returns the admin runs <c>postqueue -f</c>. All Postfix defaults
/// (concurrency, connection cache) are left as shipped: this is "Postfix's own" flush.
/// Runs beside the lab's instances with its own config, queue and data directories
/// (LAB-NOTES: always <c>-c DIR</c>; maillog_file + postlogd; nothing chrooted; no DNS).
/// </summary>
public sealed class RelayBackup
{
    private RelayBackup(string directory, IPEndPoint smtp)
    {
        Directory = directory;
        Smtp = smtp;
    }

    public string Directory { get; }

    public IPEndPoint Smtp { get; }

    public string ConfigDirectory => Path.Combine(Directory, "config");

    private string QueueDirectory => Path.Combine(Directory, "queue");

    public string LogFile => Path.Combine(Directory, "postfix.log");

    public static async Task<RelayBackup> CreateAsync(string directory, int port, IPEndPoint primary, IEnumerable<string> recipients, IEnumerable<string> domains)
    {
        var relay = new RelayBackup(directory, new IPEndPoint(IPAddress.Loopback, port));
        string config = relay.ConfigDirectory;
        System.IO.Directory.CreateDirectory(config);
        System.IO.Directory.CreateDirectory(relay.QueueDirectory);
        string data = Path.Combine(directory, "data");
        System.IO.Directory.CreateDirectory(data);
        await Check(ProcessRunner.RunAsync("chown", ["postfix", data]), "chown");
        string next = string.Create(CultureInfo.InvariantCulture, $"smtp:[{primary.Address}]:{primary.Port}");
        List<string> domainList = domains.ToList();
        await File.WriteAllTextAsync(Path.Combine(config, "main.cf"), $"""
            # Relay-mode backup MX for the benchmark: Postfix's own queue is the reference.
            compatibility_level = 3.6
            config_directory = {config}
            queue_directory = {relay.QueueDirectory}
            data_directory = {data}
            maillog_file = {relay.LogFile}
            maillog_file_prefixes = {directory}
            myhostname = relay-backup.bench.test
            mydestination =
            mynetworks =
            inet_interfaces = all
            inet_protocols = ipv4
            local_recipient_maps =
            relay_domains = {string.Join(' ', domainList)}
            relay_recipient_maps = texthash:{config}/recipients
            transport_maps = texthash:{config}/transport
            smtpd_relay_restrictions = reject_unauth_destination
            local_header_rewrite_clients =
            message_size_limit = 104857600
            smtp_dns_support_level = disabled
            smtp_host_lookup = native
            smtpd_peername_lookup = no

            """);
        string master = string.Create(CultureInfo.InvariantCulture, $"""
            127.0.0.1:{port} inet n - n - - smtpd
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
        await File.WriteAllLinesAsync(Path.Combine(config, "recipients"), recipients.Select(r => $"{r} ok"));
        // Note: relay_domains matches subdomains (parent_domain_matches_subdomains); the
        // transport table needs the ".domain" form for them.
        await File.WriteAllLinesAsync(Path.Combine(config, "transport"), domainList.SelectMany(d => new[] { $"{d} {next}", $".{d} {next}" }));
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

    /// <summary>Messages in the deferred queue, and messages anywhere else in the queue (still moving).</summary>
    public (int Deferred, int InFlight) QueueCounts()
    {
        int deferred = CountFiles(Path.Combine(QueueDirectory, "deferred"));
        int moving = new[] { "maildrop", "incoming", "active", "hold" }.Sum(q => CountFiles(Path.Combine(QueueDirectory, q)));
        return (deferred, moving);
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
