using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using DnsClient;
using DnsClient.Protocol;
using Respaldo.Configuration;
using Respaldo.Primary;
using Respaldo.Status;

namespace Respaldo.Continuity;

/// <summary>
/// The set-up check's I/O: asks DNS (through <c>dns.resolvers</c>, as <c>Smtp/HostResolver</c>
/// does, else the system's resolvers) for each domain's MX records and their targets' addresses,
/// for the backup's name and the reverse DNS of its public addresses; probes the primary with
/// <see cref="PrimaryProber"/>; reads the disk's free space and the admin's recipient file.
/// Every failure to get an answer becomes a <see cref="LookupOutcome.Failed"/> fact, never an exception.
/// </summary>
/// <remarks>
/// Note: a client of its own, without a cache: a check must see what DNS says now, not what the
/// hand-over's resolver remembered.
/// </remarks>
public sealed class SetupFactGatherer
{
    /// <summary>The label asked under a <c>*.</c> pattern: any name there must have the wildcard's MX records.</summary>
    public const string SampleLabel = "respaldo-check";

    private readonly LookupClient _client;

    public SetupFactGatherer(IReadOnlyList<HostPort> resolvers, TimeSpan timeout)
    {
        LookupClientOptions options = resolvers.Count > 0
            ? new LookupClientOptions(resolvers.Select(s => new IPEndPoint(IPAddress.Parse(s.Host), s.Port)).ToArray())
            : new LookupClientOptions();
        options.UseCache = false;
        options.Timeout = timeout;
        options.Retries = 1;
        options.ThrowDnsErrors = false;
        options.UseTcpFallback = true;
        options.ContinueOnDnsError = false;
        _client = new LookupClient(options);
    }

    public async Task<SetupFacts> GatherAsync(RespaldoSettings settings, Tenant tenant, PrimaryProber prober, long usedBytes, CancellationToken cancellationToken)
    {
        // Note: the questions and the probe at once: a resolver that times out costs one wait, not one per domain.
        Task<DomainFacts[]> domainsAsked = Task.WhenAll(tenant.Domains.Select(pattern => DomainAsync(pattern.ToString(), cancellationToken)));
        Task<BackupFacts> backupAsked = BackupAsync(settings.Hostname, settings.Intake.PublicAddresses, cancellationToken);
        Task<Lookup<TlsaRecordFact>> tlsaAsked = TlsaAsync(settings.Hostname, cancellationToken);
        // Note: MTA-STS is a property of a domain a sender writes to; a *. pattern's names each have their own, not asked.
        Task<MtaStsFacts[]> stsAsked = Task.WhenAll(tenant.Domains.Select(pattern => pattern.ToString())
            .Where(d => !d.StartsWith("*.", StringComparison.Ordinal))
            .Select(d => MtaStsAsync(d, cancellationToken)));
        Task<IReadOnlyList<ProbeResult>> probed = prober.ProbeAsync(tenant, cancellationToken);
        await Task.WhenAll(domainsAsked, backupAsked, tlsaAsked, stsAsked, probed).ConfigureAwait(false);
        DomainFacts[] domains = await domainsAsked.ConfigureAwait(false);
        BackupFacts backup = await backupAsked.ConfigureAwait(false);
        IReadOnlyList<ProbeResult> probes = await probed.ConfigureAwait(false);
        DiskSpace disk = DiskSpace.Of(settings.StateDirectory);
        var configuration = new ConfigurationFacts(tenant.StorageShare ?? settings.Storage.Allocation, settings.Storage.MinimumFree, usedBytes,
            disk.Total, disk.Free, tenant.Recipients.File is { } file ? RecipientFile(file) : null);
        return new SetupFacts(tenant, settings.MessageSizeLimit, domains, backup, probes, configuration)
        {
            Certificate = settings.Intake.CertificateFile is { } certificate ? Certificate(certificate) : null,
            Tlsa = await tlsaAsked.ConfigureAwait(false),
            MtaSts = await stsAsked.ConfigureAwait(false),
        };
    }

    /// <summary>A domain's MX records and each target's addresses; a <c>*.</c> pattern is asked as <see cref="SampleLabel"/> under it.</summary>
    public async Task<DomainFacts> DomainAsync(string subject, CancellationToken cancellationToken)
    {
        string name = subject.StartsWith("*.", StringComparison.Ordinal) ? SampleLabel + subject[1..] : subject;
        Lookup<MxHost> mx = await MxAsync(name, cancellationToken).ConfigureAwait(false);
        var targets = new Dictionary<string, Lookup<IPAddress>>(StringComparer.OrdinalIgnoreCase);
        foreach (MxHost m in mx.Records.Where(m => m.Exchange.Length > 0))
        {
            if (!targets.ContainsKey(m.Exchange))
            {
                targets[m.Exchange] = await AddressesAsync(m.Exchange, cancellationToken).ConfigureAwait(false);
            }
        }
        return new DomainFacts(subject, name, mx, targets);
    }

    public async Task<BackupFacts> BackupAsync(string mxName, IReadOnlyList<IPAddress> publicAddresses, CancellationToken cancellationToken)
    {
        Lookup<IPAddress> addresses = await AddressesAsync(mxName, cancellationToken).ConfigureAwait(false);
        var reverse = new List<ReverseFacts>();
        foreach (IPAddress address in publicAddresses)
        {
            Lookup<string> names = await PtrAsync(address, cancellationToken).ConfigureAwait(false);
            var forward = new Dictionary<string, Lookup<IPAddress>>(StringComparer.OrdinalIgnoreCase);
            foreach (string n in names.Records.Distinct(StringComparer.OrdinalIgnoreCase))
            {
                forward[n] = await AddressesAsync(n, cancellationToken).ConfigureAwait(false);
            }
            reverse.Add(new ReverseFacts(address, names, forward));
        }
        return new BackupFacts(mxName, addresses, publicAddresses, reverse);
    }

    public async Task<Lookup<MxHost>> MxAsync(string name, CancellationToken cancellationToken)
    {
        (IDnsQueryResponse? response, string error) = await AskAsync(name, QueryType.MX, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            return error.Length == 0 ? Lookups.None<MxHost>("the name does not exist (NXDOMAIN)") : Lookups.Failed<MxHost>(error);
        }
        return Lookups.Found<MxHost>(response.Answers.MxRecords()
            .Select(r => new MxHost(r.Preference, Name(r.Exchange.Value)))
            .ToList());
    }

    public async Task<Lookup<IPAddress>> AddressesAsync(string name, CancellationToken cancellationToken)
    {
        var found = new List<IPAddress>();
        string? failure = null;
        foreach (QueryType type in new[] { QueryType.A, QueryType.AAAA })
        {
            (IDnsQueryResponse? response, string error) = await AskAsync(name, type, cancellationToken).ConfigureAwait(false);
            if (response is null)
            {
                failure ??= error.Length > 0 ? error : null;
                continue;
            }
            found.AddRange(response.Answers.ARecords().Select(a => a.Address));
            found.AddRange(response.Answers.AaaaRecords().Select(a => a.Address));
        }
        // Note: an address from one family is an answer even when the other family's question failed.
        return found.Count > 0 ? Lookups.Found<IPAddress>(found) : failure is not null ? Lookups.Failed<IPAddress>(failure) : Lookups.None<IPAddress>();
    }

    public async Task<Lookup<string>> PtrAsync(IPAddress address, CancellationToken cancellationToken)
    {
        (IDnsQueryResponse? response, string error) = await AskAsync(BackupAddressChecks.ReverseName(address), QueryType.PTR, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            return error.Length == 0 ? Lookups.None<string>() : Lookups.Failed<string>(error);
        }
        return Lookups.Found<string>(response.Answers.PtrRecords().Select(p => Name(p.PtrDomainName.Value)).ToList());
    }

    /// <summary>The TLSA records of the backup's SMTP service, <c>_25._tcp.NAME</c> (RFC 7672).</summary>
    public async Task<Lookup<TlsaRecordFact>> TlsaAsync(string mxName, CancellationToken cancellationToken)
    {
        (IDnsQueryResponse? response, string error) = await AskAsync($"_25._tcp.{mxName}", QueryType.TLSA, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            return error.Length == 0 ? Lookups.None<TlsaRecordFact>() : Lookups.Failed<TlsaRecordFact>(error);
        }
        return Lookups.Found<TlsaRecordFact>(response.Answers.TlsaRecords()
            .Select(t => new TlsaRecordFact((int)t.CertificateUsage, (int)t.Selector, (int)t.MatchingType, Convert.ToHexStringLower(t.CertificateAssociationData.ToArray())))
            .ToList());
    }

    /// <summary>
    /// A domain's MTA-STS records (the TXT records of <c>_mta-sts.DOMAIN</c> that start <c>v=STSv1</c>)
    /// and, when exactly one announces a policy, the policy itself (<see cref="FetchPolicyAsync"/>).
    /// </summary>
    public async Task<MtaStsFacts> MtaStsAsync(string domain, CancellationToken cancellationToken)
    {
        (IDnsQueryResponse? response, string error) = await AskAsync($"_mta-sts.{domain}", QueryType.TXT, cancellationToken).ConfigureAwait(false);
        Lookup<string> records = response is null
            ? error.Length == 0 ? Lookups.None<string>() : Lookups.Failed<string>(error)
            // Note: a TXT record's strings are one text, concatenated (RFC 8461 §3.1); other TXT records there are not MTA-STS's.
            : Lookups.Found<string>(response.Answers.TxtRecords().Select(t => string.Concat(t.Text))
                .Where(t => t.StartsWith("v=STSv1", StringComparison.Ordinal)).ToList());
        PolicyFetch? policy = records.Records.Count == 1 ? await FetchPolicyAsync(domain, cancellationToken).ConfigureAwait(false) : null;
        return new MtaStsFacts(domain, records, policy);
    }

    /// <summary>The most of a policy read (RFC 8461 §3.3 suggests senders cap it; 64 KiB is far above any real policy).</summary>
    public const int MaxPolicyBytes = 64 * 1024;

    /// <summary>How long a policy fetch may take, connection and TLS included.</summary>
    public static readonly TimeSpan PolicyTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Fetches <c>https://mta-sts.DOMAIN/.well-known/mta-sts.txt</c> as a sender would (RFC 8461 §3.3):
    /// HTTPS with the certificate validated against the system's trust store, no redirect followed,
    /// only a 200 taken, at most <see cref="MaxPolicyBytes"/>, within <see cref="PolicyTimeout"/>.
    /// </summary>
    /// <remarks>
    /// Note: the host is resolved through this gatherer's resolvers (<c>dns.resolvers</c>), not the
    /// system's, so the policy's server is the one the rest of the check sees in DNS.
    /// </remarks>
    public async Task<PolicyFetch> FetchPolicyAsync(string domain, CancellationToken cancellationToken)
    {
        using var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            ConnectTimeout = PolicyTimeout,
            ConnectCallback = ConnectAsync,
        };
        using var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(PolicyTimeout);
        string url = MtaStsFacts.PolicyUrlOf(domain);
        try
        {
            using HttpResponseMessage response = await client.GetAsync(new Uri(url), HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            int code = (int)response.StatusCode;
            if (code is >= 300 and < 400)
            {
                return new PolicyFetch(false, "", $"HTTP {code} to {response.Headers.Location}: senders do not follow redirects (RFC 8461 §3.3)");
            }
            if (code != 200)
            {
                return new PolicyFetch(false, "", $"HTTP {code} {response.ReasonPhrase}");
            }
            Stream body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                byte[] buffer = new byte[MaxPolicyBytes + 1];
                int length = 0, read;
                while (length < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(length), timeout.Token).ConfigureAwait(false)) > 0)
                {
                    length += read;
                }
                return length > MaxPolicyBytes
                    ? new PolicyFetch(false, "", $"larger than {MaxPolicyBytes / 1024} KiB")
                    : new PolicyFetch(true, System.Text.Encoding.UTF8.GetString(buffer, 0, length), "") { MediaType = response.Content.Headers.ContentType?.MediaType ?? "" };
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new PolicyFetch(false, "", $"no answer within {PolicyTimeout.TotalSeconds:0} s");
        }
        catch (Exception e) when (e is HttpRequestException or IOException or SocketException or AuthenticationException)
        {
            // Note: the innermost message names the cause (a refused connection, an untrusted certificate).
            string because = e.InnerException is { } inner ? $"{e.Message} ({inner.GetBaseException().Message})" : e.Message;
            return new PolicyFetch(false, "", because);
        }
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        string host = context.DnsEndPoint.Host;
        Lookup<IPAddress> addresses = await AddressesAsync(host, cancellationToken).ConfigureAwait(false);
        if (addresses.Outcome != LookupOutcome.Found)
        {
            throw new HttpRequestException(addresses.Outcome == LookupOutcome.Failed ? $"no answer for {host}'s address: {addresses.Error}" : $"{host} has no address in DNS");
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses.Records.ToArray(), context.DnsEndPoint.Port, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The response when the server answered (records or none); null with "" for NXDOMAIN, null with the reason when there was no answer.</summary>
    private async Task<(IDnsQueryResponse? Response, string Error)> AskAsync(string name, QueryType type, CancellationToken cancellationToken)
    {
        try
        {
            IDnsQueryResponse response = await _client.QueryAsync(name, type, QueryClass.IN, cancellationToken).ConfigureAwait(false);
            if (!response.HasError)
            {
                return (response, "");
            }
            return response.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain
                ? (null, "")
                : (null, $"{type} {name}: {response.Header.ResponseCode} ({response.ErrorMessage})");
        }
        catch (DnsResponseException e)
        {
            // Note: DnsClient throws on a timeout or a broken connection even with ThrowDnsErrors off.
            return (null, $"{type} {name}: {e.Code} ({e.Message})");
        }
    }

    /// <summary>The first certificate of a PEM file (the server's own; the rest is its chain).</summary>
    public static CertificateFacts Certificate(string path)
    {
        try
        {
            var chain = new X509Certificate2Collection();
            try
            {
                chain.ImportFromPemFile(path);
                if (chain.Count == 0)
                {
                    return new CertificateFacts(path, false, "no certificate in the file", default, default, [], "");
                }
                X509Certificate2 leaf = chain[0];
                var names = new List<string>();
                foreach (X509SubjectAlternativeNameExtension san in leaf.Extensions.OfType<X509SubjectAlternativeNameExtension>())
                {
                    names.AddRange(san.EnumerateDnsNames());
                }
                if (names.Count == 0 && leaf.GetNameInfo(X509NameType.DnsName, forIssuer: false) is { Length: > 0 } cn)
                {
                    // Note: only without subjectAltName does the CN count (RFC 6125 §6.4.4).
                    names.Add(cn);
                }
                (bool trusted, string trustError) = Verify(chain);
                return new CertificateFacts(path, true, "", new DateTimeOffset(leaf.NotBefore.ToUniversalTime()), new DateTimeOffset(leaf.NotAfter.ToUniversalTime()),
                    names, leaf.GetNameInfo(X509NameType.SimpleName, forIssuer: true))
                {
                    Certificates = chain.Select(c => c.RawData).ToList(),
                    PublicKeys = chain.Select(c => c.PublicKey.ExportSubjectPublicKeyInfo()).ToList(),
                    Trusted = trusted,
                    TrustError = trustError,
                };
            }
            finally
            {
                foreach (X509Certificate2 c in chain)
                {
                    c.Dispose();
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            return new CertificateFacts(path, false, e.Message, default, default, [], "");
        }
    }

    /// <summary>Whether the file's first certificate chains to the system's trust store, the rest of the file as intermediates.</summary>
    /// <remarks>Note: no revocation check and no download of missing intermediates: the check makes no connection of its own here.</remarks>
    private static (bool Trusted, string Error) Verify(X509Certificate2Collection file)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        for (int i = 1; i < file.Count; i++)
        {
            chain.ChainPolicy.ExtraStore.Add(file[i]);
        }
        if (chain.Build(file[0]))
        {
            return (true, "");
        }
        return (false, string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct()));
    }

    private static RecipientFileFacts RecipientFile(string path)
    {
        try
        {
            int count = File.ReadLines(path).Count(l => l.Trim() is { Length: > 0 } t && !t.StartsWith('#'));
            return new RecipientFileFacts(path, true, count, "");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new RecipientFileFacts(path, false, 0, e.Message);
        }
    }

    /// <summary>A DNS name as the checks compare it: lower case, no trailing dot ("" for the root, the null MX).</summary>
    private static string Name(string value) => value.TrimEnd('.').ToLowerInvariant();
}
