namespace Respaldo.Continuity;

/// <summary>Every evaluator over one tenant's facts, in the order the report shows them (pure).</summary>
public static class SetupEvaluator
{
    public static SetupReport Evaluate(SetupFacts facts, DateTimeOffset checkedAt)
    {
        var checks = new List<SetupCheck>();
        foreach (DomainFacts d in facts.Domains)
        {
            checks.AddRange(MxChecks.Evaluate(d, facts.Backup.MxName, facts.Tenant));
        }
        checks.AddRange(BackupAddressChecks.Evaluate(facts.Backup));
        checks.Add(CertificateChecks.Evaluate(facts.Certificate, facts.Backup.MxName, checkedAt));
        checks.Add(TlsaChecks.Evaluate(facts.Tlsa, facts.Certificate, facts.Backup.MxName));
        foreach (MtaStsFacts m in facts.MtaSts)
        {
            checks.AddRange(MtaStsChecks.Evaluate(m, facts.Certificate, facts.Backup.MxName, checkedAt));
        }
        checks.AddRange(PrimaryChecks.Evaluate(facts.Tenant, facts.Probes, facts.MessageSizeLimit));
        checks.Add(DrillChecks.Evaluate(facts.Tenant, facts.LastDrill, checkedAt));
        checks.AddRange(ConfigurationChecks.Evaluate(facts.Tenant, facts.Configuration));
        return new SetupReport(facts.Tenant.Id, checkedAt, checks);
    }
}
