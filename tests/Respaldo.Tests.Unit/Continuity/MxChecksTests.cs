using System.Net;
using Respaldo.Continuity;
using static Respaldo.Tests.Continuity.ContinuityFacts;

namespace Respaldo.Tests.Continuity;

public sealed class MxChecksTests
{
    [Fact]
    public void ADomainWithThePrimaryAtTenAndTheBackupAtTwentyIsOkEverywhere()
    {
        IReadOnlyList<SetupCheck> checks = MxChecks.Evaluate(Domain("suempresa.es", ["10 mail.suempresa.es", "20 " + BackupName]), BackupName, Tenant());
        Assert.All(checks, c => Assert.Equal(CheckStatus.Ok, c.Status));
        Assert.Equal([MxChecks.Present, MxChecks.Backup, MxChecks.PrimaryLowest, MxChecks.TargetAddress, MxChecks.TargetAddress], checks.Select(c => c.Id));
    }

    [Fact]
    public void AMissingBackupRecordIsFailingAndTheFixIsTheRecordToPublish()
    {
        SetupCheck c = MxChecks.Evaluate(Domain("suempresa.es", ["10 mail.suempresa.es"]), BackupName, Tenant()).One(MxChecks.Backup);
        Assert.Equal(CheckStatus.Failing, c.Status);
        Assert.Equal($"publish suempresa.es. IN MX 20 {BackupName}.", c.Fix);
    }

    [Fact]
    public void ABackupWithALowerNumberThanThePrimaryIsFailingTwice()
    {
        IReadOnlyList<SetupCheck> checks = MxChecks.Evaluate(Domain("suempresa.es", ["10 mail.suempresa.es", "5 " + BackupName]), BackupName, Tenant());
        SetupCheck backup = checks.One(MxChecks.Backup);
        Assert.Equal(CheckStatus.Failing, backup.Status);
        Assert.Contains("lower than the primary's 10", backup.Seen, StringComparison.Ordinal);
        Assert.Contains($"MX 20 {BackupName}.", backup.Fix, StringComparison.Ordinal);
        Assert.Equal(CheckStatus.Failing, checks.One(MxChecks.PrimaryLowest).Status);
    }

    [Fact]
    public void TheBackupAtTheSamePreferenceIsAWarning()
    {
        SetupCheck c = MxChecks.Evaluate(Domain("suempresa.es", ["10 mail.suempresa.es", "10 " + BackupName]), BackupName, Tenant()).One(MxChecks.Backup);
        Assert.Equal(CheckStatus.Warning, c.Status);
        Assert.Contains("MX 20 ", c.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void TheBackupSharingThePrimarysAddressIsStillNotThePrimary()
    {
        // A primary configured by address (127.0.0.1), the backup's name at that address too, as in the lab.
        IReadOnlyList<SetupCheck> checks = MxChecks.Evaluate(Domain("suempresa.es", ["10 mail.suempresa.es", "5 " + BackupName]), BackupName, Tenant("192.0.2.1"));
        Assert.Equal(CheckStatus.Failing, checks.One(MxChecks.PrimaryLowest).Status);
    }

    [Fact]
    public void APrimaryConfiguredByAddressIsRecognisedByItsMxTargetsAddress()
    {
        SetupCheck c = MxChecks.Evaluate(Domain("suempresa.es", ["10 mx.suempresa.es", "20 " + BackupName]), BackupName, Tenant("192.0.2.1")).One(MxChecks.PrimaryLowest);
        Assert.Equal(CheckStatus.Ok, c.Status);
    }

    [Fact]
    public void AnUnrecognisedLowestMxIsAWarningNotAFailure()
    {
        SetupCheck c = MxChecks.Evaluate(Domain("suempresa.es", ["10 filter.provider.example", "20 " + BackupName]), BackupName, Tenant()).One(MxChecks.PrimaryLowest);
        Assert.Equal(CheckStatus.Warning, c.Status);
    }

    [Fact]
    public void AnMxTargetWithoutAnAddressIsFailingAndNamesTheHost()
    {
        IReadOnlyList<SetupCheck> checks = MxChecks.Evaluate(Domain("suempresa.es", ["10 mail.suempresa.es", "20 " + BackupName, "30 old.suempresa.es"], "old.suempresa.es"), BackupName, Tenant());
        SetupCheck c = Assert.Single(checks.Only(MxChecks.TargetAddress), x => x.Status != CheckStatus.Ok);
        Assert.Equal(CheckStatus.Failing, c.Status);
        Assert.EndsWith("old.suempresa.es", c.Subject, StringComparison.Ordinal);
        Assert.Contains("old.suempresa.es. IN A", c.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void AWildcardWithoutMxIsFailingWithTheWildcardRecordAsTheFix()
    {
        var facts = new DomainFacts("*.suempresa.es", "respaldo-check.suempresa.es", Lookups.None<MxHost>("the name does not exist (NXDOMAIN)"), new Dictionary<string, Lookup<IPAddress>>());
        SetupCheck c = Assert.Single(MxChecks.Evaluate(facts, BackupName, Tenant()));
        Assert.Equal((MxChecks.Present, CheckStatus.Failing), (c.Id, c.Status));
        Assert.Contains("*.suempresa.es (asked as respaldo-check.suempresa.es)", c.Subject, StringComparison.Ordinal);
        Assert.Contains($"*.suempresa.es. IN MX 20 {BackupName}.", c.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void AnMxLookupThatGotNoAnswerCouldNotBeCheckedAndIsNeverOk()
    {
        var facts = new DomainFacts("suempresa.es", "suempresa.es", Lookups.Failed<MxHost>("MX suempresa.es: ConnectionTimeout"), new Dictionary<string, Lookup<IPAddress>>());
        SetupCheck c = Assert.Single(MxChecks.Evaluate(facts, BackupName, Tenant()));
        Assert.Equal(CheckStatus.CouldNotCheck, c.Status);
        Assert.Contains("ConnectionTimeout", c.Seen, StringComparison.Ordinal);
    }

    [Fact]
    public void ATargetWhoseAddressLookupFailedCouldNotBeChecked()
    {
        DomainFacts d = Domain("suempresa.es", ["10 mail.suempresa.es", "20 " + BackupName]);
        var targets = new Dictionary<string, Lookup<IPAddress>>(d.TargetAddresses) { [BackupName] = Lookups.Failed<IPAddress>("A: ServerFailure") };
        IReadOnlyList<SetupCheck> checks = MxChecks.Evaluate(d with { TargetAddresses = targets }, BackupName, Tenant());
        Assert.Contains(checks.Only(MxChecks.TargetAddress), c => c.Status == CheckStatus.CouldNotCheck);
    }

    [Fact]
    public void ANullMxIsFailing()
    {
        IReadOnlyList<SetupCheck> checks = MxChecks.Evaluate(Domain("suempresa.es", ["0 "]), BackupName, Tenant());
        Assert.Contains(checks.Only(MxChecks.Present), c => c.Status == CheckStatus.Failing);
    }
}
