using System.Net;
using Respaldo.Continuity;
using static Respaldo.Tests.Continuity.ContinuityFacts;

namespace Respaldo.Tests.Continuity;

public sealed class BackupAddressChecksTests
{
    private static readonly IPAddress Ours = IPAddress.Parse("192.0.2.10");

    private static BackupFacts Facts(Lookup<IPAddress> addresses, IPAddress[] publicAddresses, params ReverseFacts[] reverse) =>
        new(BackupName, addresses, publicAddresses, reverse);

    private static ReverseFacts Reverse(string? ptr, params IPAddress[] forward) =>
        new(Ours, ptr is null ? Lookups.None<string>() : Lookups.Found<string>([ptr]),
            ptr is null ? new Dictionary<string, Lookup<IPAddress>>() : new Dictionary<string, Lookup<IPAddress>> { [ptr] = Lookups.Found<IPAddress>(forward) });

    [Fact]
    public void TheBackupsNameAtThisServersAddressWithConfirmedReverseDnsIsOk()
    {
        IReadOnlyList<SetupCheck> checks = BackupAddressChecks.Evaluate(Facts(Lookups.Found<IPAddress>([Ours]), [Ours], Reverse(BackupName, Ours)));
        Assert.Equal([(BackupAddressChecks.Address, CheckStatus.Ok), (BackupAddressChecks.ReverseDns, CheckStatus.Ok)], checks.Select(c => (c.Id, c.Status)));
    }

    [Fact]
    public void TheNameAtAnotherAddressIsFailingAndTheFixIsTheARecord()
    {
        SetupCheck c = BackupAddressChecks.Evaluate(Facts(Lookups.Found<IPAddress>([IPAddress.Parse("198.51.100.7")]), [Ours], Reverse(BackupName, Ours))).One(BackupAddressChecks.Address);
        Assert.Equal(CheckStatus.Failing, c.Status);
        Assert.Contains($"\"{BackupName}. IN A 192.0.2.10\"", c.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void ANameWithoutAnAddressIsFailing()
    {
        SetupCheck c = BackupAddressChecks.Evaluate(Facts(Lookups.None<IPAddress>(), [Ours])).One(BackupAddressChecks.Address);
        Assert.Equal(CheckStatus.Failing, c.Status);
    }

    [Fact]
    public void WithoutPublicAddressesConfiguredTheFixIsTheSetting()
    {
        IReadOnlyList<SetupCheck> checks = BackupAddressChecks.Evaluate(Facts(Lookups.Found<IPAddress>([Ours]), []));
        SetupCheck c = Assert.Single(checks);
        Assert.Equal(CheckStatus.Warning, c.Status);
        Assert.Contains("intake.publicAddresses", c.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void AnExtraAddressThatIsNotOursIsAWarning()
    {
        SetupCheck c = BackupAddressChecks.Evaluate(Facts(Lookups.Found<IPAddress>([Ours, IPAddress.Parse("198.51.100.7")]), [Ours], Reverse(BackupName, Ours))).One(BackupAddressChecks.Address);
        Assert.Equal(CheckStatus.Warning, c.Status);
    }

    [Fact]
    public void NoPtrIsAWarningWhoseFixIsThePtrRecord()
    {
        SetupCheck c = BackupAddressChecks.Evaluate(Facts(Lookups.Found<IPAddress>([Ours]), [Ours], Reverse(null))).One(BackupAddressChecks.ReverseDns);
        Assert.Equal(CheckStatus.Warning, c.Status);
        Assert.Contains($"10.2.0.192.in-addr.arpa. IN PTR {BackupName}.", c.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void APtrNameThatDoesNotResolveBackIsAWarning()
    {
        SetupCheck c = BackupAddressChecks.Evaluate(Facts(Lookups.Found<IPAddress>([Ours]), [Ours], Reverse("host-10.isp.example", IPAddress.Parse("203.0.113.1")))).One(BackupAddressChecks.ReverseDns);
        Assert.Equal(CheckStatus.Warning, c.Status);
        Assert.Contains("does not resolve back", c.Seen, StringComparison.Ordinal);
    }

    [Fact]
    public void AFailedLookupCouldNotBeChecked()
    {
        IReadOnlyList<SetupCheck> checks = BackupAddressChecks.Evaluate(Facts(Lookups.Failed<IPAddress>("A: ConnectionTimeout"), [Ours],
            new ReverseFacts(Ours, Lookups.Failed<string>("PTR: ServerFailure"), new Dictionary<string, Lookup<IPAddress>>())));
        Assert.All(checks, c => Assert.Equal(CheckStatus.CouldNotCheck, c.Status));
    }

    [Fact]
    public void AnIpv6AddressHasItsNibbleReverseName()
    {
        Assert.Equal("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", BackupAddressChecks.ReverseName(IPAddress.Parse("2001:db8::1")));
    }
}
