using Respaldo.Continuity;

namespace Respaldo.Tests.Continuity;

public sealed class SetupReportTests
{
    [Fact]
    public void ACheckIdIsOkForMetricsOnlyWhenEverySubjectOfItIsOk()
    {
        var report = new SetupReport("t", DateTimeOffset.UnixEpoch,
        [
            new SetupCheck(MxChecks.Backup, "a.es", CheckStatus.Ok, "", "", ""),
            new SetupCheck(MxChecks.Backup, "b.es", CheckStatus.CouldNotCheck, "", "", ""),
            new SetupCheck(MxChecks.Present, "a.es", CheckStatus.Ok, "", "", ""),
        ]);
        Assert.Equal(new Dictionary<string, bool> { [MxChecks.Backup] = false, [MxChecks.Present] = true }, report.OkById());
        Assert.False(report.HasFailing);
    }
}
