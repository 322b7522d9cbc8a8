using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Border;

/// <summary>What one case got, and the copies it left.</summary>
public sealed class CaseOutcome(CorpusCase c)
{
    public CorpusCase Case { get; } = c;

    public string MessageId { get; set; } = "";

    public SmtpReply Reply { get; set; } = new(0, "");

    public Stage? Stage { get; set; }

    /// <summary>The copy the backup stored (read while the primary was down), or null.</summary>
    public byte[]? Stored { get; set; }

    /// <summary>Where the backup's copy was saved for the re-scan (it is deleted after the hand-over).</summary>
    public string? StoredCopyFile { get; set; }

    /// <summary>rspamc's answer for the stored copy.</summary>
    public string? Rescan { get; set; }

    /// <summary>The copy at the primary after the hand-over, or null.</summary>
    public byte[]? AtPrimary { get; set; }

    /// <summary>Files of this message anywhere (backup or primary) after the run: refused ones must have none.</summary>
    public List<string> Found { get; } = [];
}

/// <summary>
/// The corpus sent once per lab: zones published, the primary taken down, every case sent
/// over SMTP from its own source address, the stored copies read and re-scanned, the primary
/// brought back and the handed-over copies read. Tests assert on the result, one case each.
/// </summary>
public sealed partial class BorderCorpusRun
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static (BorderLabFixture Lab, BorderCorpusRun Run)? _done;

    private BorderCorpusRun(string run) => Run = run;

    public string Run { get; }

    public Dictionary<string, CaseOutcome> Outcomes { get; } = new(StringComparer.Ordinal);

    /// <summary>The border counts (API, /metrics, dashboard) before the corpus was sent.</summary>
    public BorderCounts Before { get; private set; } = BorderCounts.Empty;

    public List<string> Log { get; } = [];

    public TimeSpan Elapsed { get; private set; }

    /// <summary>The run for this lab, made by the first test that asks.</summary>
    public static async Task<BorderCorpusRun> OfAsync(BorderLabFixture lab)
    {
        await Gate.WaitAsync();
        try
        {
            if (_done is { } d && ReferenceEquals(d.Lab, lab))
            {
                return d.Run;
            }
            var run = new BorderCorpusRun("corpus" + Guid.NewGuid().ToString("N")[..8]);
            await run.ExecuteAsync(lab);
            _done = (lab, run);
            return run;
        }
        finally
        {
            Gate.Release();
        }
    }

    private void Say(string line) => Log.Add($"{DateTime.UtcNow:HH:mm:ss.f} {line}");

    private async Task ExecuteAsync(BorderLabFixture lab)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await lab.AddZonesAsync(BorderCorpus.Zones());
        await lab.RunLabAsync("primary-down");
        Say("zones published, primary down");
        using (var client = new DashboardClient(lab["DASHBOARD_URL"]))
        {
            Before = await BorderCounts.ReadAsync(client, lab);
        }

        // Note: postscreen keeps each new client waiting for its greeting (2 s in the lab) once,
        // then remembers it passed; every sender but the pregreeting one is introduced at once.
        (string host, int port) = lab.BackupSmtp;
        await Task.WhenAll(BorderCorpus.Cases.Where(c => !c.Pregreet).Select(c => c.Source).Distinct().Select(async source =>
        {
            await using SmtpTestClient warm = await SmtpTestClient.ConnectAsync(host, port, source);
            if (warm.Greeting.Code != 220)
            {
                throw new InvalidOperationException($"{source}: greeting {warm.Greeting}");
            }
        }));
        Say("senders past postscreen's greeting test");

        foreach (CorpusCase c in BorderCorpus.Cases)
        {
            var o = new CaseOutcome(c) { MessageId = $"{Run}.{c.Name}@{c.HeaderFrom.Split('@')[1]}" };
            byte[] message = BorderCorpus.Build(c, o.MessageId);
            (o.Reply, o.Stage) = c.Pregreet
                ? await PregreetAsync(host, port, c)
                : await SendAsync(host, port, c, message);
            Outcomes[c.Name] = o;
            Say($"{c.Name}: {o.Stage} {o.Reply.Text.Replace('\n', ' ')}");
        }

        // The accepted ones reach the maildir within seconds; the others never enter the queue.
        string backup = lab["BACKUP_MAILDIRS"];
        string primary = lab["PRIMARY_MAILDIRS"];
        string[] expected = Outcomes.Values.Where(o => o.Reply.Code == 250).Select(o => o.Case.Name).ToArray();
        Dictionary<string, string> stored = await WaitForAsync(backup, expected, "stored at the backup");
        string copies = Path.Combine(lab.Directory, "corpus-copies", Run);
        Directory.CreateDirectory(copies);
        foreach ((string name, string file) in stored)
        {
            CaseOutcome o = Outcomes[name];
            o.Stored = await File.ReadAllBytesAsync(file);
            o.StoredCopyFile = Path.Combine(copies, name + ".eml");
            await File.WriteAllBytesAsync(o.StoredCopyFile, o.Stored);
            ProcessRunner.Result scan = await ProcessRunner.RunAsync("rspamc", ["-h", lab["RSPAMD_SCAN"], o.StoredCopyFile]);
            o.Rescan = scan.ExitCode == 0 ? scan.Output : $"rspamc failed: {scan}";
        }
        Say($"{stored.Count} stored copies read and re-scanned");

        await lab.RunLabAsync("primary-up");
        Dictionary<string, string> handedOver = await WaitForAsync(primary, expected, "handed over to the primary");
        await WaitForAsync(backup, [], "gone from the backup", exact: true);
        foreach ((string name, string file) in handedOver)
        {
            Outcomes[name].AtPrimary = await File.ReadAllBytesAsync(file);
        }
        Say($"{handedOver.Count} copies at the primary");

        foreach ((string file, string name) in Ours(backup).Concat(Ours(primary)))
        {
            Outcomes[name].Found.Add(file);
        }
        Elapsed = clock.Elapsed;
        Say($"corpus run took {Elapsed.TotalSeconds:0}s");
    }

    private static async Task<(SmtpReply, Stage?)> SendAsync(string host, int port, CorpusCase c, byte[] message)
    {
        await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(host, port, c.Source);
        if (client.Greeting.Code != 220)
        {
            return (client.Greeting, null);
        }
        SmtpReply ehlo = await client.CommandAsync($"EHLO mx.{c.EnvelopeFrom.Split('@')[1]}");
        if (ehlo.Code != 250)
        {
            return (ehlo, null);
        }
        string body = c.Body == BodyKind.EightBit ? " BODY=8BITMIME" : "";
        SmtpReply mail = await client.CommandAsync($"MAIL FROM:<{c.EnvelopeFrom}>{body} SIZE={message.Length}");
        if (mail.Code != 250)
        {
            return (mail, null);
        }
        SmtpReply rcpt = await client.CommandAsync($"RCPT TO:<{BorderCorpus.Recipient}>");
        if (rcpt.Code != 250)
        {
            return (rcpt, Stage.Rcpt);
        }
        SmtpReply end = await client.DataAsync(message);
        return client.DataCommandReply?.Code == 354 ? (end, Stage.EndOfData) : (end, null);
    }

    /// <summary>
    /// A spam bot's manners: EHLO right after the first line of postscreen's multi-line
    /// greeting ("220-"), before its final line. postscreen then plays an SMTP server that
    /// refuses every recipient.
    /// </summary>
    private static async Task<(SmtpReply, Stage?)> PregreetAsync(string host, int port, CorpusCase c)
    {
        using var tcp = new TcpClient(AddressFamily.InterNetwork) { NoDelay = true };
        tcp.Client.Bind(new IPEndPoint(IPAddress.Parse(c.Source), 0));
        await tcp.ConnectAsync(host, port);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        NetworkStream stream = tcp.GetStream();
        using var reader = new StreamReader(stream, Encoding.Latin1);
        string first = await reader.ReadLineAsync(timeout.Token) ?? "(closed)";
        if (!first.StartsWith("220-", StringComparison.Ordinal))
        {
            return (new SmtpReply(0, $"expected the first line of a multi-line greeting, got: {first}"), null);
        }
        async Task<SmtpReply> Command(string line, bool skipGreeting = false)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"), timeout.Token);
            var text = new StringBuilder();
            while (true)
            {
                string? l = await reader.ReadLineAsync(timeout.Token);
                if (l is null)
                {
                    return new SmtpReply(0, text.Append("(connection closed)").ToString());
                }
                if (skipGreeting && l.StartsWith("220", StringComparison.Ordinal))
                {
                    continue;
                }
                text.Append(l).Append('\n');
                if (l.Length < 4 || l[3] != '-')
                {
                    return new SmtpReply(int.Parse(l[..3], System.Globalization.CultureInfo.InvariantCulture), text.ToString().TrimEnd());
                }
            }
        }
        SmtpReply ehlo = await Command("EHLO bot.example", skipGreeting: true);
        if (ehlo.Code != 250)
        {
            return (ehlo, null);
        }
        SmtpReply mail = await Command($"MAIL FROM:<{c.EnvelopeFrom}>");
        if (mail.Code != 250)
        {
            return (mail, null);
        }
        SmtpReply rcpt = await Command($"RCPT TO:<{BorderCorpus.Recipient}>");
        await stream.WriteAsync("QUIT\r\n"u8.ToArray(), timeout.Token);
        return (rcpt, rcpt.Code == 250 ? null : Stage.Rcpt);
    }

    /// <summary>This run's messages under a maildir root: file → case name.</summary>
    private Dictionary<string, string> Ours(string root)
    {
        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string file in StoredMail.AllFiles(root))
        {
            try
            {
                string? id = StoredMail.Header(File.ReadAllBytes(file), "Message-ID");
                if (id is not null && MessageIdOfRun().Match(id) is { Success: true } m && m.Groups["run"].Value == Run)
                {
                    found[file] = m.Groups["name"].Value;
                }
            }
            catch (FileNotFoundException)
            {
                // Note: handed over (and deleted) while we looked.
            }
        }
        return found;
    }

    [GeneratedRegex(@"<(?<run>corpus[0-9a-f]{8})\.(?<name>[a-z0-9-]+)@")]
    private static partial Regex MessageIdOfRun();

    /// <summary>Waits until exactly the named cases are under <paramref name="root"/> (each once); returns name → file.</summary>
    private async Task<Dictionary<string, string>> WaitForAsync(string root, string[] names, string what, bool exact = false)
    {
        Dictionary<string, string> found = [];
        for (int i = 0; i < 1200; i++)
        {
            found = Ours(root);
            var byName = found.GroupBy(f => f.Value).ToDictionary(g => g.Key, g => g.Count());
            bool complete = names.All(n => byName.GetValueOrDefault(n) == 1) && (!exact || found.Count == names.Length);
            if (complete)
            {
                return found.ToDictionary(f => f.Value, f => f.Key);
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"expected [{string.Join(", ", names)}] {what}; found [{string.Join(", ", found.Values.Order())}]");
    }
}
