using System.Net;
using System.Net.Sockets;
using Respaldo.Configuration;
using Respaldo.Continuity;

namespace Respaldo.Tests.Continuity;

/// <summary>
/// A resolver that never answers (a UDP socket on loopback that reads nothing): the gatherer's
/// questions time out, and every check built on them is "could not check", never ok.
/// </summary>
public sealed class DnsTimeoutTests : IDisposable
{
    private readonly Socket _silent = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);

    public DnsTimeoutTests() => _silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));

    public void Dispose() => _silent.Dispose();

    private SetupFactGatherer Gatherer() =>
        new([new HostPort("127.0.0.1", ((IPEndPoint)_silent.LocalEndPoint!).Port)], TimeSpan.FromMilliseconds(300));

    [Fact]
    public async Task AnMxQuestionThatTimesOutCouldNotBeChecked()
    {
        DomainFacts facts = await Gatherer().DomainAsync("suempresa.es", CancellationToken.None);
        Assert.Equal(LookupOutcome.Failed, facts.Mx.Outcome);
        Tenant tenant = new()
        {
            Id = "t", Name = "t", Domains = [new DomainPattern("suempresa.es", false)],
            Primary = new PrimaryServer([new HostPort("mail.suempresa.es", 25)], TlsPolicy.None, null, "", 1, 0),
            Mailboxes = [], AlertEmails = [], DashboardUsers = [],
        };
        SetupCheck check = Assert.Single(MxChecks.Evaluate(facts, "mail-backup.suempresa.es", tenant));
        Assert.Equal((MxChecks.Present, CheckStatus.CouldNotCheck), (check.Id, check.Status));
        Assert.Contains("Timeout", check.Seen, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task TheBackupsAddressAndReverseDnsCouldNotBeCheckedEither()
    {
        BackupFacts facts = await Gatherer().BackupAsync("mail-backup.suempresa.es", [IPAddress.Parse("192.0.2.10")], CancellationToken.None);
        IReadOnlyList<SetupCheck> checks = BackupAddressChecks.Evaluate(facts);
        Assert.Equal(2, checks.Count);
        Assert.All(checks, c => Assert.Equal(CheckStatus.CouldNotCheck, c.Status));
    }
}
