using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Border;

/// <summary>
/// dns.resolvers is the controller's resolver too: the lab names the otra tenant's primary
/// (mail.otra.test), a name only the lab's DNS knows — the machine's own resolver cannot
/// answer for it — and the controller's probes reach it.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class ResolverTests(LabFixture lab)
{
    [Fact]
    public async Task ThePrimaryIsFoundByItsNameThroughTheConfiguredResolvers()
    {
        await lab.RunLabAsync("primary-up");
        string host = $"mail.otra.test:{lab.PrimarySmtp.Port}";
        await Eventually.WaitAsync(
            () => Task.FromResult(LabJournal.Query(lab["JOURNAL"],
                $"SELECT COUNT(*) FROM probes WHERE tenant = 'otra' AND host = '{host}' AND up = 1")[0][0]),
            count => Convert.ToInt64(count, System.Globalization.CultureInfo.InvariantCulture) > 0,
            TimeSpan.FromSeconds(90), $"an 'up' probe of {host} in the journal");
        // Note: and the name is the lab's alone: the system resolver does not know it.
        await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => System.Net.Dns.GetHostAddressesAsync("mail.otra.test"));
    }
}
