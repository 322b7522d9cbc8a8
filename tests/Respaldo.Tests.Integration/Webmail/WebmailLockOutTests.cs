using System.Net;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Webmail;

/// <summary>
/// The emergency webmail's login over real HTTP (Dovecot checks the password): a stranger who
/// knows a mailbox's address (it is public) cannot lock its owner out.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class WebmailLockOutTests(LabFixture lab)
{
    private static Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> LoginAsync(DashboardClient client, string address, string password) =>
        client.PostWithTokenAsync("/webmail/login", "/webmail/login", [new("address", address), new("password", password)]);

    [Fact]
    public async Task ALockOutAttackFromOneAddressDoesNotStopTheOwnerLoggingInFromAnother()
    {
        string mailbox = lab["WEBMAIL_OTHER_USER"];
        using DashboardClient attacker = new(lab["DASHBOARD_URL"], IPAddress.Parse("127.0.0.2"));
        var statuses = new List<HttpStatusCode>();
        for (int i = 0; i < 12 && !statuses.Contains((HttpStatusCode)429); i++)
        {
            statuses.Add((await LoginAsync(attacker, mailbox, $"guess-{i}")).Status);
        }
        Assert.Equal((HttpStatusCode)429, statuses[^1]);
        Assert.True(statuses.Count >= 4, string.Join(", ", statuses));
        // Even the right password from the attacker's client waits now; the owner's does not.
        Assert.Equal((HttpStatusCode)429, (await LoginAsync(attacker, mailbox, lab["WEBMAIL_PASSWORD"])).Status);
        using DashboardClient owner = new(lab["DASHBOARD_URL"], IPAddress.Loopback);
        (HttpStatusCode status, _, HttpResponseMessage response) = await LoginAsync(owner, mailbox, lab["WEBMAIL_PASSWORD"]);
        Assert.Equal(HttpStatusCode.Redirect, status);
        Assert.Equal("/webmail", response.Headers.Location!.OriginalString);
    }
}
