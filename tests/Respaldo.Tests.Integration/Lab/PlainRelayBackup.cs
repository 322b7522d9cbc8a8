using System.Globalization;

namespace Respaldo.Tests.Lab;

/// <summary>
/// A plain Postfix backup MX, the classic kind: relay_domains for the tenant's domains and a
/// transport to the primary. It is the reference the hand-over is compared with: what the
/// primary stores from it is what "unaltered" means. Its intake is hardened against SMTP
/// smuggling as Respaldo's is (smtpd_forbid_bare_newline), so that the two read the same
/// message out of the same bytes.
/// </summary>
public sealed class PlainRelayBackup : IAsyncDisposable
{
    private PlainRelayBackup(string directory, int port)
    {
        Directory = directory;
        Port = port;
    }

    public string Directory { get; }

    public int Port { get; }

    private string ConfigDirectory => Path.Combine(Directory, "config");

    public static async Task<PlainRelayBackup> StartAsync(string parent, int port, string primaryHost, int primaryPort, string hostname)
    {
        string dir = Path.Combine(parent, "plain-relay");
        var relay = new PlainRelayBackup(dir, port);
        string config = relay.ConfigDirectory;
        System.IO.Directory.CreateDirectory(config);
        System.IO.Directory.CreateDirectory(Path.Combine(dir, "queue"));
        string data = Path.Combine(dir, "data");
        System.IO.Directory.CreateDirectory(data);
        await ProcessRunner.RunAsync("chown", ["postfix", data]);
        string next = $"smtp:[{primaryHost}]:{primaryPort.ToString(CultureInfo.InvariantCulture)}";
        File.WriteAllText(Path.Combine(config, "main.cf"), $"""
            compatibility_level = 3.6
            config_directory = {config}
            queue_directory = {dir}/queue
            data_directory = {data}
            maillog_file = {dir}/postfix.log
            maillog_file_prefixes = {dir}
            myhostname = {hostname}
            mydestination =
            mynetworks =
            inet_interfaces = all
            inet_protocols = ipv4
            local_recipient_maps =
            relay_domains = suempresa.test
            relay_recipient_maps = texthash:{config}/recipients
            transport_maps = texthash:{config}/transport
            smtpd_relay_restrictions = reject_unauth_destination
            local_header_rewrite_clients =
            smtputf8_enable = yes
            smtpd_forbid_bare_newline = normalize
            smtpd_forbid_bare_newline_exclusions =
            message_size_limit = 62914560
            smtp_dns_support_level = disabled
            smtp_host_lookup = native
            smtpd_peername_lookup = no
            """.Replace("\n            ", "\n", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(config, "master.cf"), $"""
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
            """.Replace("\n            ", "\n", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(config, "recipients"), "info@suempresa.test x\nventas@suempresa.test x\njuan@norte.suempresa.test x\n");
        // Note: relay_domains matches subdomains (parent_domain_matches_subdomains); the
        // transport table needs the ".domain" form for them.
        File.WriteAllText(Path.Combine(config, "transport"), $"suempresa.test {next}\n.suempresa.test {next}\n");
        ProcessRunner.Result start = await ProcessRunner.RunAsync("postfix", ["-c", config, "start"]);
        if (start.ExitCode != 0)
        {
            throw new InvalidOperationException($"plain relay did not start: {start}\n{File.ReadAllText(Path.Combine(dir, "postfix.log"))}");
        }
        return relay;
    }

    /// <summary>Flushes the deferred queue (postqueue -f), as an admin would after the primary returns.</summary>
    public Task FlushAsync() => ProcessRunner.RunAsync("postqueue", ["-c", ConfigDirectory, "-f"]);

    public async Task<bool> QueueEmptyAsync()
    {
        ProcessRunner.Result q = await ProcessRunner.RunAsync("postqueue", ["-c", ConfigDirectory, "-p"]);
        return q.Output.Contains("Mail queue is empty", StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        await ProcessRunner.RunAsync("postfix", ["-c", ConfigDirectory, "stop"]);
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
