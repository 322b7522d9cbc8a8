using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Respaldo.Tests.Lab;

/// <summary>
/// The policy servers of the lab's MTA-STS domains: HTTPS on <see cref="Address"/>:443 (a TcpListener
/// and an SslStream, a certificate from the test's <see cref="TestCa"/> for every <c>mta-sts.DOMAIN</c>),
/// answering GET /.well-known/mta-sts.txt with the response given for the Host asked, 404 otherwise.
/// </summary>
/// <remarks>Note: port 443 because a sender asks no other (RFC 8461 §3.3); as root the test may bind it, on an address of its own.</remarks>
public sealed class MtaStsPolicyServer : IAsyncDisposable
{
    /// <summary>The loopback address the lab's DNS gives every <c>mta-sts.DOMAIN</c>; no other test uses it.</summary>
    public const string Address = "127.0.0.71";

    private readonly TcpListener _listener = new(IPAddress.Parse(Address), 443);
    private readonly X509Certificate2 _certificate;
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly IReadOnlyDictionary<string, PolicyResponse> _policies;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;

    /// <param name="ca">Issues the server's certificate.</param>
    /// <param name="policies">Each domain's answer.</param>
    public MtaStsPolicyServer(TestCa ca, IReadOnlyDictionary<string, PolicyResponse> policies)
    {
        _policies = policies.ToDictionary(p => $"mta-sts.{p.Key}", p => p.Value, StringComparer.OrdinalIgnoreCase);
        _certificate = ca.Issue(_key, TimeSpan.FromDays(30), [.. _policies.Keys]);
        _listener.Start();
        _serving = ServeAsync();
    }

    /// <summary>How many requests were answered (a test shows the policy was really fetched).</summary>
    public int Requests => Volatile.Read(ref _requests);

    private int _requests;

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            _ = AnswerAsync(client);
        }
    }

    private async Task AnswerAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                timeout.CancelAfter(TimeSpan.FromSeconds(10));
                await using var tls = new SslStream(client.GetStream());
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }, timeout.Token);
                using var reader = new StreamReader(tls, Encoding.ASCII, false, 1024, leaveOpen: true);
                string request = await reader.ReadLineAsync(timeout.Token) ?? "";
                string host = "";
                for (string? line = await reader.ReadLineAsync(timeout.Token); !string.IsNullOrEmpty(line); line = await reader.ReadLineAsync(timeout.Token))
                {
                    if (line.StartsWith("Host:", StringComparison.OrdinalIgnoreCase))
                    {
                        host = line[5..].Trim();
                    }
                }
                Interlocked.Increment(ref _requests);
                PolicyResponse answer = request.StartsWith("GET /.well-known/mta-sts.txt ", StringComparison.Ordinal) && _policies.TryGetValue(host, out PolicyResponse? policy)
                    ? policy
                    : new PolicyResponse("not found\n", "404 Not Found");
                byte[] bytes = Encoding.UTF8.GetBytes(answer.Body);
                string location = answer.Location is null ? "" : $"Location: {answer.Location}\r\n";
                await tls.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 {answer.Status}\r\nContent-Type: text/plain\r\n{location}Content-Length: {bytes.Length}\r\nConnection: close\r\n\r\n"), timeout.Token);
                await tls.WriteAsync(bytes, timeout.Token);
                await tls.FlushAsync(timeout.Token);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or System.Security.Authentication.AuthenticationException or SocketException)
            {
                // Note: a client that gave up (or refused the certificate) ends its own exchange only.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _serving;
        _certificate.Dispose();
        _key.Dispose();
        _stop.Dispose();
    }
}

/// <summary>One answer of <see cref="MtaStsPolicyServer"/>: the body, the status line's code and text, a Location for a redirect.</summary>
public sealed record PolicyResponse(string Body, string Status = "200 OK", string? Location = null);
