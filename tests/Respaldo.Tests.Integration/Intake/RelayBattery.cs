using System.Globalization;
using System.Text;
using Respaldo.Tests.Lab;
using Xunit.Abstractions;

namespace Respaldo.Tests.Intake;

/// <summary>
/// The classic open-relay tests (the kind third-party relay checkers run), aimed at one of the
/// backup's domains: foreign destinations, the '%' hack, '!' paths, source routes, quoted local
/// parts, user@other@domain, IP literals, with and without a null sender, and from a foreign
/// client address (the socket bound to 127.0.0.9, so Postfix sees another client). Each attempt
/// runs on its own connection; every one must be refused with 5xx at RCPT.
/// </summary>
public static class RelayBattery
{
    /// <summary>A client address that is not the lab's own 127.0.0.1 (all of 127/8 is local on Linux).</summary>
    public const string ForeignClient = "127.0.0.9";

    public sealed record Attempt(string Name, string Sender, string Recipient, string? BindAddress = null);

    public sealed record Outcome(Attempt Attempt, SmtpReply Reply)
    {
        public bool Refused => Reply.Code is >= 500 and < 600;
    }

    public static IReadOnlyList<Attempt> For(string domain, string subdomain) =>
    [
        new("foreign domain", "spammer@example.com", "victim@example.net"),
        new("foreign domain, null sender", "", "victim@example.net"),
        new("foreign domain, forged local sender", $"info@{domain}", "victim@example.net"),
        new("foreign domain, upper case", "spammer@example.com", "VICTIM@EXAMPLE.NET"),
        new("foreign domain, trailing dot", "spammer@example.com", "victim@example.net."),
        new("% hack", "spammer@example.com", $"victim%example.net@{domain}"),
        new("% hack at a subdomain", "spammer@example.com", $"victim%example.net@{subdomain}"),
        new("% hack, null sender", "", $"victim%example.net@{domain}"),
        new("! path", "spammer@example.com", $"example.net!victim@{domain}"),
        new("! path without a domain", "spammer@example.com", "example.net!victim"),
        new("source route", "spammer@example.com", $"@{domain}:victim@example.net"),
        new("source route through two of our domains", "spammer@example.com", $"@{domain},@{subdomain}:victim@example.net"),
        new("source route, null sender", "", $"@{domain}:victim@example.net"),
        new("quoted local part with @", "spammer@example.com", $"\"victim@example.net\"@{domain}"),
        new("quoted local part with %", "spammer@example.com", $"\"victim%example.net\"@{domain}"),
        new("user@other@domain", "spammer@example.com", $"victim@example.net@{domain}"),
        new("user@domain@other", "spammer@example.com", $"info@{domain}@example.net"),
        new("IP literal", "spammer@example.com", "victim@[192.0.2.1]"),
        new("IP literal of the backup itself", "spammer@example.com", "victim@[127.0.0.1]"),
        new("IP literal, null sender", "", "victim@[192.0.2.1]"),
        new("our domain as a prefix of a foreign one", "spammer@example.com", $"info@{domain}.example.net"),
        new("look-alike domain", "spammer@example.com", $"info@{domain.Replace(".", "", StringComparison.Ordinal)}"),
        new("foreign client: foreign domain", "spammer@example.com", "victim@example.net", ForeignClient),
        new("foreign client: null sender", "", "victim@example.net", ForeignClient),
        new("foreign client: % hack", "", $"victim%example.net@{domain}", ForeignClient),
        new("foreign client: quoted local part", "spammer@example.com", $"\"victim@example.net\"@{domain}", ForeignClient),
        new("foreign client: source route", "spammer@example.com", $"@{domain}:victim@example.net", ForeignClient),
        new("foreign client: IP literal", "spammer@example.com", "victim@[192.0.2.1]", ForeignClient),
    ];

    /// <summary>Runs every attempt, prints a table of attempts and replies, and returns the outcomes.</summary>
    public static async Task<IReadOnlyList<Outcome>> RunAsync(string host, int port, IReadOnlyList<Attempt> attempts, ITestOutputHelper output)
    {
        var outcomes = new List<Outcome>();
        foreach (Attempt a in attempts)
        {
            await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(host, port, a.BindAddress);
            Assert.Equal(250, (await client.CommandAsync("EHLO relay-tester.example.com")).Code);
            SmtpReply mail = await client.CommandAsync($"MAIL FROM:<{a.Sender}>");
            Assert.True(mail.Code == 250, $"{a.Name}: MAIL FROM:<{a.Sender}> got {mail}");
            SmtpReply rcpt = await client.CommandAsync($"RCPT TO:<{a.Recipient}>");
            if (rcpt.Code == 250)
            {
                // Note: had it been accepted, prove nothing is queued: never send DATA.
                await client.CommandAsync("RSET");
            }
            outcomes.Add(new Outcome(a, rcpt));
        }
        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"{outcomes.Count} relay attempts against {host}:{port}:");
        for (int i = 0; i < outcomes.Count; i++)
        {
            Outcome o = outcomes[i];
            table.AppendLine(CultureInfo.InvariantCulture,
                $"{i + 1,2}. {(o.Refused ? "refused" : "ACCEPTED"),-8} {o.Attempt.Name,-42} from {o.Attempt.BindAddress ?? "127.0.0.1",-9} MAIL FROM:<{o.Attempt.Sender}> RCPT TO:<{o.Attempt.Recipient}>  ->  {o.Reply.Text.Replace("\n", " / ", StringComparison.Ordinal)}");
        }
        output.WriteLine(table.ToString());
        Console.WriteLine(table.ToString());
        return outcomes;
    }
}
