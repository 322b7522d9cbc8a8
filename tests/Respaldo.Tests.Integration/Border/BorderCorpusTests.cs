using System.Text;
using System.Text.RegularExpressions;
using MimeKit;
using MimeKit.Cryptography;
using Respaldo.Tests.Lab;
using Xunit.Abstractions;

namespace Respaldo.Tests.Border;

/// <summary>
/// The border's "done when": a corpus of messages over real SMTP through the lab, each from
/// its own sender's server, each answered at the expected stage; what is refused is nowhere,
/// what is accepted is stored with Authentication-Results and an ARC set rspamd validates, and
/// reaches the primary byte for byte with its DKIM signature intact. The dashboard, /metrics
/// and the API count exactly the refusals the senders saw.
/// </summary>
[Collection(BorderLabCollection.Name)]
public sealed partial class BorderCorpusTests(BorderLabFixture lab, ITestOutputHelper output)
{
    public static TheoryData<string> CaseNames { get; } = [.. BorderCorpus.Cases.Select(c => c.Name)];

    [Fact]
    public void TheCorpusCoversTheBorderIssue()
    {
        IReadOnlyList<CorpusCase> cases = BorderCorpus.Cases;
        Assert.True(cases.Count >= 25, $"{cases.Count} cases");
        Assert.Equal(cases.Count, cases.Select(c => c.Name).Distinct().Count());
        foreach (string result in new[] { "spf=pass", "spf=fail", "spf=softfail", "spf=none", "dkim=pass", "dkim=fail", "dkim=none", "dmarc=pass", "dmarc=fail/quarantine", "dmarc=fail/none" })
        {
            Assert.True(cases.Any(c => c.Results?.Split(' ').Any(r => r == result || r.StartsWith(result + "/", StringComparison.Ordinal)) == true), $"no case expects {result}");
        }
        foreach (string tag in new[] { "[dmarc]", "[dnstemp]", "[dnsbl]", "Protocol error", "Gtube pattern" })
        {
            Assert.Contains(cases, c => c.Text == tag);
        }
        Assert.Contains(cases, c => c.Body == BodyKind.EightBit && c.Accepted);
        Assert.Contains(cases, c => c.Body == BodyKind.Attachment10MB && c.Accepted);
        Assert.Contains(cases, c => c.Body == BodyKind.Newsletter && c.Accepted && c.IsSigned);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task EachMessageGetsItsVerdictAtItsStageAndKeepsItsBytes(string name)
    {
        BorderCorpusRun run = await BorderCorpusRun.OfAsync(lab);
        CaseOutcome o = run.Outcomes[name];
        CorpusCase c = o.Case;
        string about = $"{name} (from {c.Source}, {c.EnvelopeFrom}; expected because {c.Why})";
        output.WriteLine($"{name}: {o.Stage} {o.Reply}");

        Assert.True(o.Stage == c.Stage && o.Reply.Text.StartsWith(c.Reply, StringComparison.Ordinal),
            $"{about}: expected \"{c.Reply}...\" at {c.Stage}, got \"{o.Reply}\" at {o.Stage?.ToString() ?? "an earlier stage"}");
        if (c.Text is not null)
        {
            Assert.True(o.Reply.Text.TrimEnd().EndsWith(c.Text, StringComparison.Ordinal), $"{about}: the reply \"{o.Reply}\" does not end with \"{c.Text}\"");
        }

        if (!c.Accepted)
        {
            Assert.True(o.Found.Count == 0, $"{about}: refused, yet found in {string.Join(", ", o.Found)}");
            Assert.Null(o.Stored);
            return;
        }

        byte[] stored = o.Stored ?? throw new Xunit.Sdk.XunitException($"{about}: accepted but not stored");
        string authResults = StoredMail.Header(stored, "Authentication-Results") ?? throw new Xunit.Sdk.XunitException($"{about}: stored without Authentication-Results");
        Assert.True(authResults.StartsWith("mail-backup.suempresa.test;", StringComparison.Ordinal), $"{about}: Authentication-Results of another server: {authResults}");
        Assert.True(Results(authResults) == c.Results, $"{about}: Authentication-Results say \"{Results(authResults)}\", expected \"{c.Results}\":\n{authResults}");
        foreach (string arc in new[] { "ARC-Seal", "ARC-Message-Signature", "ARC-Authentication-Results" })
        {
            string? value = StoredMail.Header(stored, arc);
            Assert.True(value is not null && value.StartsWith("i=1;", StringComparison.Ordinal), $"{about}: no {arc} i=1 in the stored copy");
        }
        Assert.Contains("d=mail-backup.suempresa.test", StoredMail.Header(stored, "ARC-Seal"), StringComparison.Ordinal);
        string rescan = o.Rescan ?? "";
        Assert.True(rescan.Contains("Symbol: ARC_ALLOW", StringComparison.Ordinal), $"{about}: rspamd does not validate the stored copy's ARC set:\n{rescan}");
        if (c.IsSigned)
        {
            string dkim = c.Break ? "Symbol: R_DKIM_REJECT" : "Symbol: R_DKIM_ALLOW";
            Assert.True(rescan.Contains(dkim, StringComparison.Ordinal), $"{about}: the stored copy's re-scan lacks {dkim}:\n{rescan}");
        }

        byte[] atPrimary = o.AtPrimary ?? throw new Xunit.Sdk.XunitException($"{about}: never reached the primary");
        Assert.True(o.Found.Count == 1, $"{about}: {o.Found.Count} copies after the hand-over: {string.Join(", ", o.Found)}");
        byte[] sent = WithoutTrace(stored, "the backup's Dovecot", r => r.Contains("with LMTP", StringComparison.Ordinal));
        byte[] received = WithoutTrace(atPrimary, "the primary's Postfix", r => r.Contains("by mail.suempresa.test (Postfix)", StringComparison.Ordinal));
        Assert.True(sent.AsSpan().SequenceEqual(received),
            $"{about}: the primary's copy differs from the stored one (after each side's own trace headers):\n--- stored\n{Head(sent)}\n--- at the primary\n{Head(received)}");

        if (c.IsSigned)
        {
            MimeMessage parsed = MimeMessage.Load(new MemoryStream(atPrimary));
            int index = parsed.Headers.IndexOf(HeaderId.DkimSignature);
            Assert.True(index >= 0, $"{about}: no DKIM-Signature at the primary");
            bool valid = new DkimVerifier(new BorderCorpus.KeyLocator()).Verify(parsed, parsed.Headers[index]);
            Assert.True(valid != c.Break, $"{about}: the original DKIM signature {(valid ? "verifies" : "does not verify")} at the primary");
        }
    }

    [Fact]
    public async Task DashboardMetricsAndApiCountTheRefusalsTheSendersSaw()
    {
        BorderCorpusRun run = await BorderCorpusRun.OfAsync(lab);
        foreach (string line in run.Log)
        {
            output.WriteLine(line);
        }
        var seen = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (CaseOutcome o in run.Outcomes.Values.Where(o => o.Reply.Code is >= 400 and < 600))
        {
            string key = $"{(o.Reply.Code >= 500 ? "refused" : "deferred")}/{Reason(o.Reply)}";
            seen[key] = seen.GetValueOrDefault(key) + 1;
        }
        output.WriteLine("the senders saw: " + string.Join(", ", seen.Select(s => $"{s.Key}={s.Value}")));
        Assert.NotEmpty(seen);

        // Note: the controller reads Postfix's log once a second; poll until all three views agree.
        using var client = new DashboardClient(lab["DASHBOARD_URL"]);
        BorderCounts before = run.Before;
        List<string> differences = [];
        for (int attempt = 0; attempt < 60; attempt++)
        {
            BorderCounts now = await BorderCounts.ReadAsync(client, lab);
            differences = [];
            foreach ((string view, IReadOnlyDictionary<string, long> b, IReadOnlyDictionary<string, long> n) in new[]
            {
                ("API", before.Api, now.Api), ("/metrics", before.Metrics, now.Metrics), ("dashboard", before.Dashboard, now.Dashboard),
            })
            {
                foreach (string key in BorderCounts.Keys(b.Keys, n.Keys, seen.Keys))
                {
                    long counted = n.GetValueOrDefault(key) - b.GetValueOrDefault(key);
                    if (counted != seen.GetValueOrDefault(key))
                    {
                        differences.Add($"{view} {key}: counted {counted}, the senders saw {seen.GetValueOrDefault(key)}");
                    }
                }
            }
            if (differences.Count == 0 && now.Api.Count > 0 && now.Dashboard.Count > 0)
            {
                output.WriteLine($"all three views agree after {attempt} polls");
                return;
            }
            await Task.Delay(500);
        }
        Assert.Fail("the border's counts differ from what the senders saw:\n" + string.Join("\n", differences));
    }

    /// <summary>The reason a sender can read in a refusal: rspamd's tag, GTUBE's text (counted as spam), postscreen's pregreet.</summary>
    private static string Reason(SmtpReply reply) =>
        ReasonTag().Match(reply.Text) is { Success: true } m ? m.Groups[1].Value
        : reply.Text.Contains("Gtube pattern", StringComparison.Ordinal) ? "spam"
        : reply.Text.Contains("Protocol error", StringComparison.Ordinal) ? "pregreet"
        : throw new Xunit.Sdk.XunitException($"a refusal without a reason the test knows: {reply}");

    [GeneratedRegex(@"\[([a-z-]+)\]\s*\z")]
    private static partial Regex ReasonTag();

    [GeneratedRegex(@"\b(?<method>dkim|spf|dmarc)=(?<result>\w+)(?:[^;]*?\(policy=(?<policy>\w+)\))?")]
    private static partial Regex Method();

    /// <summary>"dkim=X spf=Y dmarc=Z[/policy]" from an Authentication-Results value.</summary>
    private static string Results(string authResults)
    {
        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string part in authResults.Split(';').Skip(1))
        {
            Match m = Method().Match(part.Trim());
            if (m.Success && m.Index == 0)
            {
                string value = m.Groups["result"].Value + (m.Groups["policy"].Success ? "/" + m.Groups["policy"].Value : "");
                found[m.Groups["method"].Value] = found.TryGetValue(m.Groups["method"].Value, out string? other) ? other + "," + value : value;
            }
        }
        return string.Join(' ', new[] { "dkim", "spf", "dmarc" }.Select(k => $"{k}={found.GetValueOrDefault(k, "-")}"));
    }

    /// <summary>
    /// The message without the headers its mailbox's own delivery put on top: Return-Path,
    /// X-Original-To, Delivered-To and one Received line (the backup's Dovecot LMTP, or the
    /// primary's Postfix); every other byte as stored.
    /// </summary>
    private static byte[] WithoutTrace(byte[] message, string who, Func<string, bool> isOwnReceived)
    {
        int offset = 0;
        while (NameAt(message, offset) is "return-path" or "x-original-to" or "delivered-to")
        {
            offset = StoredMail.EndOfHeader(message, offset);
        }
        int end = StoredMail.EndOfHeader(message, offset);
        string received = Encoding.Latin1.GetString(message, offset, end - offset);
        if (NameAt(message, offset) != "received" || !isOwnReceived(received))
        {
            throw new Xunit.Sdk.XunitException($"no Received line of {who} where expected:\n{Head(message[offset..])}");
        }
        return message[end..];
    }

    private static string? NameAt(byte[] message, int offset)
    {
        int colon = Array.IndexOf(message, (byte)':', offset);
        int lf = Array.IndexOf(message, (byte)'\n', offset);
        return colon < 0 || (lf >= 0 && lf < colon) ? null : Encoding.ASCII.GetString(message, offset, colon - offset).ToLowerInvariant();
    }

    private static string Head(byte[] b) => Encoding.Latin1.GetString(b, 0, Math.Min(b.Length, 2500));
}
