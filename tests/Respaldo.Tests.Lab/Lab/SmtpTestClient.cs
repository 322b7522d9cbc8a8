using System.Net.Sockets;
using System.Text;

namespace Respaldo.Tests.Lab;

/// <summary>
/// A deliberately raw SMTP client for tests: it sends exactly the bytes it is told to, so tests
/// can try envelope tricks no well-behaved library would produce, and it reports each reply.
/// </summary>
public sealed class SmtpTestClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private Stream _stream;
    private StreamReader _reader;

    private SmtpTestClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        _reader = new StreamReader(_stream, Encoding.Latin1);
    }

    public SmtpReply Greeting { get; private set; } = new(0, "");

    public static async Task<SmtpTestClient> ConnectAsync(string host, int port, string? bindAddress = null)
    {
        var tcp = new TcpClient(System.Net.Sockets.AddressFamily.InterNetwork) { NoDelay = true };
        if (bindAddress is not null)
        {
            tcp.Client.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Parse(bindAddress), 0));
        }
        await tcp.ConnectAsync(host, port).ConfigureAwait(false);
        tcp.ReceiveTimeout = 30_000;
        var client = new SmtpTestClient(tcp);
        client.Greeting = await client.ReadReplyAsync().ConfigureAwait(false);
        return client;
    }

    /// <summary>The server's certificate after <see cref="StartTlsAsync"/>.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? ServerCertificate { get; private set; }

    public string? TlsProtocol { get; private set; }

    /// <summary>STARTTLS (RFC 3207) and a TLS handshake of the given versions; any certificate is accepted and kept.</summary>
    public async Task<SmtpReply> StartTlsAsync(System.Security.Authentication.SslProtocols protocols = System.Security.Authentication.SslProtocols.None)
    {
        SmtpReply reply = await CommandAsync("STARTTLS").ConfigureAwait(false);
        if (reply.Code != 220)
        {
            return reply;
        }
        var ssl = new System.Net.Security.SslStream(_stream, leaveInnerStreamOpen: false);
        await ssl.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
        {
            TargetHost = "mail-backup.suempresa.test",
            EnabledSslProtocols = protocols,
#pragma warning disable CA5359 // A test inspects the certificate instead of trusting a CA.
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
#pragma warning restore CA5359
        }).ConfigureAwait(false);
        ServerCertificate = ssl.RemoteCertificate is { } c ? System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(c.GetRawCertData()) : null;
        TlsProtocol = ssl.SslProtocol.ToString();
        _stream = ssl;
        _reader = new StreamReader(_stream, Encoding.Latin1);
        return reply;
    }

    public async Task<SmtpReply> CommandAsync(string line)
    {
        await _stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\r\n")).ConfigureAwait(false);
        return await ReadReplyAsync().ConfigureAwait(false);
    }

    /// <summary>The reply to the last DATA command itself (354 when the message was sent).</summary>
    public SmtpReply? DataCommandReply { get; private set; }

    /// <summary>Sends DATA, the message (LF or CRLF lines, dot-stuffed here) and the final dot.</summary>
    public async Task<SmtpReply> DataAsync(byte[] message)
    {
        SmtpReply data = await CommandAsync("DATA").ConfigureAwait(false);
        DataCommandReply = data;
        if (data.Code != 354)
        {
            return data;
        }
        await _stream.WriteAsync(Stuff(message)).ConfigureAwait(false);
        await _stream.WriteAsync(".\r\n"u8.ToArray()).ConfigureAwait(false);
        return await ReadReplyAsync().ConfigureAwait(false);
    }

    /// <summary>One whole transaction; returns the first reply that is not a success, or the final one.</summary>
    public async Task<SmtpReply> SendAsync(string from, IEnumerable<string> to, byte[] message)
    {
        SmtpReply mail = await CommandAsync($"MAIL FROM:<{from}>").ConfigureAwait(false);
        if (mail.Code != 250)
        {
            return mail;
        }
        foreach (string rcpt in to)
        {
            SmtpReply r = await CommandAsync($"RCPT TO:<{rcpt}>").ConfigureAwait(false);
            if (r.Code != 250)
            {
                return r;
            }
        }
        return await DataAsync(message).ConfigureAwait(false);
    }

    private static byte[] Stuff(byte[] message)
    {
        // Note: the SMTP transparency rules (RFC 5321 §4.5.2): CRLF line ends, and a line
        // starting with '.' gets one more.
        var output = new MemoryStream(message.Length + 1024);
        bool lineStart = true;
        for (int i = 0; i < message.Length; i++)
        {
            byte b = message[i];
            if (lineStart && b == (byte)'.')
            {
                output.WriteByte((byte)'.');
            }
            if (b == (byte)'\n' && (i == 0 || message[i - 1] != (byte)'\r'))
            {
                output.WriteByte((byte)'\r');
            }
            output.WriteByte(b);
            lineStart = b == (byte)'\n';
        }
        if (!lineStart)
        {
            output.Write("\r\n"u8);
        }
        return output.ToArray();
    }

    private async Task<SmtpReply> ReadReplyAsync()
    {
        var text = new StringBuilder();
        while (true)
        {
            string? line = await _reader.ReadLineAsync().ConfigureAwait(false);
            if (line is null)
            {
                return new SmtpReply(0, text.Append("(connection closed)").ToString());
            }
            text.Append(line).Append('\n');
            if (line.Length < 4 || line[3] != '-')
            {
                return new SmtpReply(int.Parse(line[..3], System.Globalization.CultureInfo.InvariantCulture), text.ToString().TrimEnd());
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _stream.WriteAsync("QUIT\r\n"u8.ToArray()).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // Note: the server may already have closed the connection (421, oversize).
        }
        _reader.Dispose();
        _tcp.Dispose();
    }
}

public sealed record SmtpReply(int Code, string Text)
{
    public override string ToString() => Text;
}
