using System.Net.Sockets;
using System.Text;

namespace Respaldo.Tests.Smtp;

/// <summary>A reply as the client saw it, with the command it answered.</summary>
public sealed record SmtpAnswer(int Code, string Text, string Stage)
{
    public bool IsPositive => Code is >= 200 and < 400;

    public bool IsTransient => Code is >= 400 and < 500;

    /// <summary>The first line, for tables and logs.</summary>
    public string OneLine => Text.Split('\n')[0].TrimEnd('\r');

    public override string ToString() => $"{Stage}: {Text}";
}

/// <summary>How one transaction ended: accepted (250 to the end of data) or the first refusal.</summary>
public sealed record SmtpTransaction(bool Accepted, SmtpAnswer Last)
{
    public override string ToString() => Accepted ? $"accepted: {Last.OneLine}" : $"refused at {Last.Stage}: {Last.OneLine}";
}

/// <summary>
/// An SMTP client that sends a message's bytes exactly as it is given them: no line-end
/// conversion, no MIME awareness. It applies only the transparency rule of RFC 5321 §4.5.2
/// (a '.' at the start of a line, that is after any LF, is doubled) and ends the data with
/// CRLF "." CRLF, adding a CRLF first when the message does not end in one (Postfix requires
/// the standard end of data; smtpd_forbid_bare_newline). Envelope addresses are bytes too, so
/// a test can send what no sane client would. Nagle is off (LAB-NOTES: 40 ms per message otherwise).
/// </summary>
public sealed class ExactSmtpClient : IAsyncDisposable
{
    private const int Chunk = 256 * 1024;

    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly TimeSpan _timeout;
    private readonly byte[] _input = new byte[16 * 1024];
    private int _start;
    private int _end;

    private ExactSmtpClient(TcpClient tcp, TimeSpan timeout)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        _timeout = timeout;
    }

    public SmtpAnswer Greeting { get; private set; } = new(0, "", "greeting");

    /// <summary>Connects, reads the greeting and says EHLO (a refusal of either shows in <see cref="Greeting"/>).</summary>
    public static async Task<ExactSmtpClient> ConnectAsync(string host, int port, string ehlo = "client.example.org", TimeSpan? timeout = null)
    {
        var tcp = new TcpClient(AddressFamily.InterNetwork) { NoDelay = true };
        await tcp.ConnectAsync(host, port).ConfigureAwait(false);
        var client = new ExactSmtpClient(tcp, timeout ?? TimeSpan.FromMinutes(3));
        client.Greeting = await client.ReadReplyAsync("greeting").ConfigureAwait(false);
        if (client.Greeting.Code == 220)
        {
            SmtpAnswer hello = await client.CommandAsync($"EHLO {ehlo}").ConfigureAwait(false);
            if (hello.Code != 250)
            {
                client.Greeting = hello;
            }
        }
        return client;
    }

    public bool Ready => Greeting.Code == 220;

    public Task<SmtpAnswer> CommandAsync(string line) => CommandAsync(Encoding.UTF8.GetBytes(line), line.Split(' ')[0]);

    public async Task<SmtpAnswer> CommandAsync(byte[] line, string stage)
    {
        await _stream.WriteAsync(line).ConfigureAwait(false);
        await _stream.WriteAsync("\r\n"u8.ToArray()).ConfigureAwait(false);
        return await ReadReplyAsync(stage).ConfigureAwait(false);
    }

    /// <summary>MAIL FROM, each RCPT TO, DATA and the message; stops at the first refusal.</summary>
    /// <param name="mailParameters">Appended to MAIL FROM, e.g. " SMTPUTF8" or " BODY=8BITMIME".</param>
    public async Task<SmtpTransaction> SendAsync(byte[] sender, IReadOnlyList<byte[]> recipients, string mailParameters, ReadOnlyMemory<byte> content)
    {
        SmtpAnswer mail = await CommandAsync([.. "MAIL FROM:<"u8, .. sender, .. ">"u8, .. Encoding.ASCII.GetBytes(mailParameters)], "MAIL").ConfigureAwait(false);
        if (mail.Code != 250)
        {
            await ResetAsync().ConfigureAwait(false);
            return new SmtpTransaction(false, mail);
        }
        foreach (byte[] r in recipients)
        {
            SmtpAnswer rcpt = await CommandAsync([.. "RCPT TO:<"u8, .. r, .. ">"u8], "RCPT").ConfigureAwait(false);
            if (rcpt.Code is not (250 or 251))
            {
                await ResetAsync().ConfigureAwait(false);
                return new SmtpTransaction(false, rcpt);
            }
        }
        SmtpAnswer data = await CommandAsync("DATA"u8.ToArray(), "DATA").ConfigureAwait(false);
        if (data.Code != 354)
        {
            await ResetAsync().ConfigureAwait(false);
            return new SmtpTransaction(false, data);
        }
        await WriteStuffedAsync(content).ConfigureAwait(false);
        SmtpAnswer end = await ReadReplyAsync("end of data").ConfigureAwait(false);
        if (end.Code != 250)
        {
            // Note: Postfix 3.7 keeps the transaction open after smtpd_end_of_data_restrictions
            // refuse (the next MAIL gets "503 5.5.1 nested MAIL command"); RSET, as Postfix's own
            // client does before it reuses a session.
            await ResetAsync().ConfigureAwait(false);
        }
        return new SmtpTransaction(end.Code == 250, end);
    }

    /// <summary>The convenience form: ASCII or UTF-8 addresses.</summary>
    public Task<SmtpTransaction> SendAsync(string sender, IEnumerable<string> recipients, ReadOnlyMemory<byte> content, string mailParameters = "") =>
        SendAsync(Encoding.UTF8.GetBytes(sender), recipients.Select(Encoding.UTF8.GetBytes).ToList(), mailParameters, content);

    private async Task ResetAsync()
    {
        try
        {
            await CommandAsync("RSET"u8.ToArray(), "RSET").ConfigureAwait(false);
        }
        catch (IOException)
        {
            // Note: the server may have closed after its refusal (421).
        }
    }

    /// <summary>The data with dot-stuffing (after every LF, and at the very start), then the end of data.</summary>
    private async Task WriteStuffedAsync(ReadOnlyMemory<byte> content)
    {
        byte[] output = new byte[Chunk * 2];
        int n = 0;
        bool lineStart = true;
        ReadOnlySpan<byte> span = content.Span;
        for (int offset = 0; offset < content.Length; offset += Chunk)
        {
            span = content.Span;
            ReadOnlySpan<byte> piece = span.Slice(offset, Math.Min(Chunk, content.Length - offset));
            n = 0;
            foreach (byte b in piece)
            {
                if (lineStart && b == (byte)'.')
                {
                    output[n++] = (byte)'.';
                }
                output[n++] = b;
                lineStart = b == (byte)'\n';
            }
            await _stream.WriteAsync(output.AsMemory(0, n)).ConfigureAwait(false);
        }
        bool endsInCrLf = content.Length >= 2 && content.Span[^2] == (byte)'\r' && content.Span[^1] == (byte)'\n';
        await _stream.WriteAsync(endsInCrLf ? ".\r\n"u8.ToArray() : "\r\n.\r\n"u8.ToArray()).ConfigureAwait(false);
    }

    /// <summary>
    /// The next reply, for bytes already sent (a pipelined group); "(connection closed)" with
    /// code 0 when the server closed first, a <see cref="TimeoutException"/> when nothing came
    /// within <paramref name="within"/> (the client's timeout when not given).
    /// </summary>
    public Task<SmtpAnswer> ReplyAsync(string stage, TimeSpan? within = null) => ReadReplyAsync(stage, within);

    private async Task<SmtpAnswer> ReadReplyAsync(string stage, TimeSpan? within = null)
    {
        TimeSpan timeout = within ?? _timeout;
        using var cts = new CancellationTokenSource(timeout);
        var text = new StringBuilder();
        while (true)
        {
            string? line = await ReadLineAsync(timeout, cts.Token).ConfigureAwait(false);
            if (line is null)
            {
                return new SmtpAnswer(0, text.Append("(connection closed)").ToString(), stage);
            }
            text.Append(line).Append('\n');
            if (line.Length < 4 || line[3] != '-')
            {
                int code = line.Length >= 3 && int.TryParse(line.AsSpan(0, 3), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int c) ? c : 0;
                return new SmtpAnswer(code, text.ToString().TrimEnd(), stage);
            }
        }
    }

    private async Task<string?> ReadLineAsync(TimeSpan timeout, CancellationToken ct)
    {
        while (true)
        {
            int lf = Array.IndexOf(_input, (byte)'\n', _start, _end - _start);
            if (lf >= 0)
            {
                string line = Encoding.UTF8.GetString(_input, _start, lf - _start).TrimEnd('\r');
                _start = lf + 1;
                return line;
            }
            if (_start > 0)
            {
                Buffer.BlockCopy(_input, _start, _input, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            if (_end == _input.Length)
            {
                throw new IOException("reply line too long");
            }
            int n;
            try
            {
                n = await _stream.ReadAsync(_input.AsMemory(_end), ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no reply within {timeout.TotalSeconds:0.#} s");
            }
            if (n == 0)
            {
                return null;
            }
            _end += n;
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
            // Note: the server may already have closed the connection.
        }
        _tcp.Dispose();
    }
}
