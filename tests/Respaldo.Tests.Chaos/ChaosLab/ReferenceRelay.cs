using Respaldo.Tests.Lab;
using Respaldo.Tests.Smtp;

namespace Respaldo.Tests.ChaosLab;

/// <summary>
/// The verbatim rule's reference: the same messages, with the same envelopes, through a plain
/// Postfix backup MX (<see cref="RelayBackup"/>) straight to the lab's real primary. What
/// the primary stores from it is what it must store from Respaldo, byte for byte.
/// </summary>
public static class ReferenceRelay
{
    /// <summary>Relays <paramref name="mails"/> and returns the primary's copy of each (file path) by key.</summary>
    public static async Task<Dictionary<CopyKey, StoredCopy>> RelayAsync(LabFixture lab, IReadOnlyList<OutgoingMail> mails, MaildirCensus primary)
    {
        var keys = mails.SelectMany(m => m.Keys).ToHashSet();
        await using (RelayBackup relay = await RelayBackup.StartBesideAsync(lab))
        {
            await using ExactSmtpClient client = await ExactSmtpClient.ConnectAsync("127.0.0.1", relay.Port, "client.example.org");
            Assert.True(client.Ready, client.Greeting.ToString());
            foreach (OutgoingMail m in mails)
            {
                SmtpTransaction t = await client.SendAsync(m.Sender, m.RecipientBytes, m.Parameters, m.Content());
                Assert.True(t.Accepted, $"the plain relay refused {m.Name}: {t}");
            }
            await Eventually.WaitAsync(
                () => Task.FromResult(primary.Scan(keys.Contains).Count(c => c.Via == CopyPath.PlainRelay)),
                n => n >= keys.Count, TimeSpan.FromMinutes(3), "the plain relay's copies at the primary");
        }
        var copies = primary.Scan(keys.Contains).Where(c => c.Via == CopyPath.PlainRelay).ToList();
        Assert.True(copies.Count == keys.Count, $"{copies.Count} copies from the plain relay for {keys.Count} keys");
        return copies.ToDictionary(c => c.Key);
    }
}
