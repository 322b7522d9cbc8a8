using System.Text.Json;
using Respaldo.Tests.Lab;
using Xunit.Abstractions;

namespace Respaldo.Tests.Continuity;

/// <summary>
/// <c>respaldoctl doctor --json</c> against the lab's daemon over the lab's control bus, with the
/// lab's real DNS (NSD) serving one tenant set up right and one set up wrong in each DNS way
/// (<see cref="ContinuityLabFixture"/>): each fault is reported on its tenant with its fix, and
/// nothing on the right one.
/// </summary>
[Collection(ContinuityLabCollection.Name)]
public sealed class DoctorTests(ContinuityLabFixture lab, ITestOutputHelper output)
{
    private sealed record Check(string Tenant, string Id, string Subject, string Status, string Seen, string Fix);

    private async Task<(int ExitCode, List<Check> Checks)> DoctorAsync(params string[] args)
    {
        ProcessRunner.Result r = await lab.LabCtlAsync(["doctor", .. args, "--json"]);
        output.WriteLine(r.ToString());
        using JsonDocument json = JsonDocument.Parse(r.Output);
        var checks = json.RootElement.EnumerateArray().Select(c => new Check(
            c.GetProperty("tenant").GetString()!, c.GetProperty("check").GetString()!, c.GetProperty("subject").GetString()!,
            c.GetProperty("status").GetString()!, c.GetProperty("seen").GetString()!, c.GetProperty("fix").GetString()!)).ToList();
        return (r.ExitCode, checks);
    }

    [Fact]
    public async Task EachDnsFaultIsReportedOnItsTenantWithItsFixAndNothingOnTheRightOne()
    {
        await lab.RunLabAsync("primary-up");
        (int exit, List<Check> checks) = await DoctorAsync();
        Assert.True(exit == 8, $"a failing check makes doctor exit 8, not {exit}");

        List<Check> right = checks.Where(c => c.Tenant == "suempresa").ToList();
        Assert.Contains(right, c => c.Id == "mx-backup" && c.Subject == "*.suempresa.test (asked as respaldo-check.suempresa.test)");
        Assert.Contains(right, c => c.Id == "backup-reverse-dns");
        Assert.Contains(right, c => c.Id == "backup-certificate" && c.Seen.StartsWith($"for {ContinuityLabFixture.Backup}, ", StringComparison.Ordinal));
        Assert.Contains(right, c => c.Id == "backup-tlsa" && c.Seen.StartsWith("TLSA 3 1 1 ", StringComparison.Ordinal));
        Assert.Contains(right, c => c.Id == "primary-recipient");
        // The fixture's drill: the primary took a real message from the backup.
        Assert.Contains(right, c => c.Id == "primary-accepts-backup" && c.Subject == "info@suempresa.test" && c.Seen.Contains(" passed, handed over ", StringComparison.Ordinal));
        Assert.Contains(right, c => c.Id == "mta-sts" && c.Subject == "suempresa.test" && c.Seen == $"mode enforce, mx: mail.suempresa.test, {ContinuityLabFixture.Backup}: {ContinuityLabFixture.Backup} matches \"mx: {ContinuityLabFixture.Backup}\"");
        Assert.Contains(right, c => c.Id == "mta-sts-certificate" && c.Subject == $"suempresa.test: {ContinuityLabFixture.Backup}");
        Assert.All(right, c => Assert.True(c.Status == "ok", $"suempresa: {c}"));

        HashSet<(string, string, string)> Faults(string tenant) => checks
            .Where(c => c.Tenant == tenant && c.Id.StartsWith("mx-", StringComparison.Ordinal) && c.Status != "ok")
            .Select(c => (c.Id, c.Subject, c.Status)).ToHashSet();

        Assert.Equal([("mx-backup", "sinmx20.test", "failing")], Faults("sinmx20"));
        Assert.Contains(checks, c => c.Tenant == "sinmx20" && c.Id == "mx-backup" && c.Fix == $"publish sinmx20.test. IN MX 20 {ContinuityLabFixture.Backup}.");

        Assert.Equal([("mx-backup", "invertido.test", "failing"), ("mx-primary-lowest", "invertido.test", "failing")], Faults("invertido"));
        Assert.Contains(checks, c => c.Tenant == "invertido" && c.Id == "mx-backup" && c.Seen.Contains("lower than the primary's 20", StringComparison.Ordinal)
            && c.Fix.Contains($"invertido.test. IN MX 30 {ContinuityLabFixture.Backup}.", StringComparison.Ordinal));

        Assert.Equal([("mx-present", "*.comodin.test (asked as respaldo-check.comodin.test)", "failing")], Faults("comodin"));
        Assert.Contains(checks, c => c.Tenant == "comodin" && c.Id == "mx-present" && c.Fix.Contains($"*.comodin.test. IN MX 20 {ContinuityLabFixture.Backup}.", StringComparison.Ordinal));

        Assert.Equal([("mx-target-address", "sindireccion.test: viejo.sindireccion.test", "failing")], Faults("sindireccion"));
        Assert.Contains(checks, c => c.Tenant == "sindireccion" && c.Id == "mx-target-address" && c.Fix.Contains("viejo.sindireccion.test. IN A", StringComparison.Ordinal));

        // Note: the lab's DNS refuses names outside its zones: no answer is "could not check", never ok.
        Assert.Equal([("mx-present", "fuera.example", "could-not-check")], Faults("fuera"));

        // The report is kept: anyone may read it back, and /metrics exports it per check.
        (int lastExit, List<Check> last) = await DoctorAsync("invertido", "--last");
        Assert.Equal(8, lastExit);
        Assert.Equal(checks.Where(c => c.Tenant == "invertido").Select(c => (c.Id, c.Subject, c.Status)), last.Select(c => (c.Id, c.Subject, c.Status)));
        // A failing check is an alert too (once, then daily): the tenant's alert address gets it, with the fix.
        string? alert = await Eventually.WaitAsync(
            () => Task.FromResult(LabFixture.Messages(lab["EXTERNAL_MAILDIRS"], lab["ALERT_MAILBOX"])
                .Select(f => MimeKit.MimeMessage.Load(f))
                .Where(m => m.Headers["X-Respaldo-Alert"] == "setup-failing")
                .Select(m => m.TextBody ?? "")
                .FirstOrDefault(t => t.Contains("mx-backup invertido.test", StringComparison.Ordinal))),
            t => t is not null, TimeSpan.FromSeconds(60), "a setup-failing alert for invertido at the alert address");
        Assert.Contains($"fix: give the backup a higher number than 20", alert, StringComparison.Ordinal);
        using var http = new HttpClient();
        string metrics = await http.GetStringAsync(new Uri(new Uri(lab["WEB_URL"]), "/metrics"));
        Assert.Contains("respaldo_setup_check{tenant=\"suempresa\",check=\"mx-backup\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("respaldo_setup_check{tenant=\"invertido\",check=\"mx-backup\"} 0", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnMtaStsPolicyWithoutTheBackupIsFailingWithTheLineToAdd()
    {
        await lab.RunLabAsync("primary-up");
        int served = lab.Policies!.Requests;
        (int exit, List<Check> checks) = await DoctorAsync("sinsts");
        Assert.Equal(8, exit);
        Check sts = Assert.Single(checks, c => c.Id == "mta-sts");
        Assert.Equal(("sinsts.test", "failing"), (sts.Subject, sts.Status));
        Assert.Equal($"mode enforce, mx: mail.sinsts.test: {ContinuityLabFixture.Backup} is not among them: senders that honour the policy will not deliver to the backup", sts.Seen);
        Assert.Equal($"add the line \"mx: {ContinuityLabFixture.Backup}\" to https://mta-sts.sinsts.test/.well-known/mta-sts.txt, then change the id= in the _mta-sts.sinsts.test TXT record (senders fetch the policy again only when the id changes)", sts.Fix);
        // Note: the policy was fetched from the test's server (over HTTPS, its CA trusted), not made up.
        Assert.True(lab.Policies.Requests > served, "the daemon fetched sinsts.test's policy from the test's HTTPS server");
        // Note: the wrong tenants have no probe recipient (primary-recipient) and no drill address
        // (primary-accepts-backup): warnings; nothing else is wrong with sinsts.
        Assert.Equal(["mta-sts"], checks.Where(c => c.Status != "ok" && c.Id is not ("primary-recipient" or "primary-accepts-backup")).Select(c => c.Id));
        Assert.DoesNotContain(checks, c => c.Id == "mta-sts-certificate");
        // Without a policy there is nothing to honour: the other wrong tenants' domains say so, as ok.
        (_, List<Check> other) = await DoctorAsync("sinmx20");
        Check none = Assert.Single(other, c => c.Id == "mta-sts");
        Assert.Equal(("ok", "no MTA-STS policy (_mta-sts.sinmx20.test has no v=STSv1 TXT record)"), (none.Status, none.Seen));
    }

    [Fact]
    public async Task APolicyBehindARedirectOrPastTheSizeCapIsNotTakenAsSendersWouldNot()
    {
        await lab.RunLabAsync("primary-up");
        (_, List<Check> checks) = await DoctorAsync("stsroto");
        Check redirect = Assert.Single(checks, c => c.Id == "mta-sts" && c.Subject == "redirige.test");
        Assert.Equal("could-not-check", redirect.Status);
        Assert.EndsWith("could not be fetched: HTTP 301 to https://mta-sts.suempresa.test/.well-known/mta-sts.txt: senders do not follow redirects (RFC 8461 §3.3)", redirect.Seen, StringComparison.Ordinal);
        Check large = Assert.Single(checks, c => c.Id == "mta-sts" && c.Subject == "grande.test");
        Assert.Equal("could-not-check", large.Status);
        Assert.EndsWith("could not be fetched: larger than 64 KiB", large.Seen, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThePolicyServersCertificateIsValidatedNotTakenOnTrust()
    {
        // Note: the same fetch from the test's own process, which does not trust the test's CA, is refused:
        // what lets the lab's controller fetch is the CA it was given, not a validation turned off.
        string[] dns = lab["DNS"].Split(':');
        var gatherer = new Respaldo.Continuity.SetupFactGatherer([new Respaldo.Configuration.HostPort(dns[0], int.Parse(dns[1], System.Globalization.CultureInfo.InvariantCulture))], TimeSpan.FromSeconds(3));
        Respaldo.Continuity.PolicyFetch fetch = await gatherer.FetchPolicyAsync("suempresa.test", CancellationToken.None);
        output.WriteLine(fetch.Error);
        Assert.False(fetch.Fetched);
        // Note: PartialChain: the server sends its certificate only, and nothing this process trusts issued it.
        Assert.Contains("The remote certificate is invalid because of errors in the certificate chain", fetch.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnMtaStsPolicyWhoseServerIsGoneCouldNotBeCheckedNeverOk()
    {
        await lab.RunLabAsync("primary-up");
        // Note: the TXT record stays; the policy's host is pointed at an address nothing listens on.
        await lab.PublishStsHostAsync("127.0.0.72");
        try
        {
            (_, List<Check> checks) = await DoctorAsync("suempresa");
            Check sts = Assert.Single(checks, c => c.Id == "mta-sts");
            Assert.Equal("could-not-check", sts.Status);
            Assert.StartsWith("_mta-sts.suempresa.test announces a policy, but https://mta-sts.suempresa.test/.well-known/mta-sts.txt could not be fetched: ", sts.Seen, StringComparison.Ordinal);
            Assert.DoesNotContain(checks, c => c.Id == "mta-sts-certificate");
        }
        finally
        {
            await lab.PublishStsHostAsync(MtaStsPolicyServer.Address);
        }
    }

    [Fact]
    public async Task AnExpiringCertificateIsAWarningWithTheRenewalAndAnAlert()
    {
        await lab.RunLabAsync("primary-up");
        await lab.IssueBackupCertificateAsync(TimeSpan.FromDays(10));
        try
        {
            (int exit, List<Check> checks) = await DoctorAsync("suempresa");
            Assert.Equal(0, exit);
            Check certificate = Assert.Single(checks, c => c.Id == "backup-certificate");
            Assert.Equal("warning", certificate.Status);
            Assert.EndsWith(": expires in 9 days", certificate.Seen, StringComparison.Ordinal);
            Assert.Equal($"renew the certificate in {Path.Combine(lab.Directory, "tls", "backup.crt")} (and reload: respaldoctl render --reload)", certificate.Fix);
            Assert.Equal(["backup-certificate"], checks.Where(c => c.Status != "ok").Select(c => c.Id));
            string? alert = await Eventually.WaitAsync(
                () => Task.FromResult(LabFixture.Messages(lab["EXTERNAL_MAILDIRS"], lab["ALERT_MAILBOX"])
                    .Select(f => MimeKit.MimeMessage.Load(f))
                    .Where(m => m.Headers["X-Respaldo-Alert"] == "setup-failing")
                    .Select(m => m.TextBody ?? "")
                    .FirstOrDefault(t => t.Contains("backup-certificate ", StringComparison.Ordinal))),
                t => t is not null, TimeSpan.FromSeconds(60), "a setup-failing alert naming backup-certificate at the alert address");
            Assert.Contains("expires in 9 days", alert, StringComparison.Ordinal);
            // The tenant's Set-up page shows the same warning, with the renewal.
            using var client = new DashboardClient(lab["DASHBOARD_URL"]);
            Assert.Equal(System.Net.HttpStatusCode.Redirect, await client.LoginAsync("suempresa", lab["DASHBOARD_PASSWORD"]));
            (_, string html, _) = await client.GetAsync("/t/suempresa/setup");
            string row = System.Text.RegularExpressions.Regex.Match(html, "<tr data-check=\"backup-certificate\" data-status=\"warning\">(.*?)</tr>", System.Text.RegularExpressions.RegexOptions.Singleline).Groups[1].Value;
            Assert.Contains("expires in 9 days", row, StringComparison.Ordinal);
            Assert.Contains($"renew the certificate in {Path.Combine(lab.Directory, "tls", "backup.crt")}", row, StringComparison.Ordinal);
        }
        finally
        {
            await lab.IssueBackupCertificateAsync(ContinuityLabFixture.RightCertificateValidity);
        }
        (int rightExit, List<Check> right) = await DoctorAsync("suempresa");
        Assert.Equal(0, rightExit);
        Assert.Equal("ok", Assert.Single(right, c => c.Id == "backup-certificate").Status);
    }

    [Fact]
    public async Task AStaleTlsaRecordIsFailingWithTheRecordToPublish()
    {
        await lab.RunLabAsync("primary-up");
        string stale = new('a', 64);
        await lab.PublishTlsaAsync(stale);
        try
        {
            (int exit, List<Check> checks) = await DoctorAsync("suempresa");
            Assert.Equal(8, exit);
            Check tlsa = Assert.Single(checks, c => c.Id == "backup-tlsa");
            Assert.Equal(("failing", $"_25._tcp.{ContinuityLabFixture.Backup}"), (tlsa.Status, tlsa.Subject));
            Assert.Contains($"_25._tcp.{ContinuityLabFixture.Backup}. IN TLSA 3 1 1 {lab.RightTlsa}", tlsa.Fix, StringComparison.Ordinal);
            Assert.Equal(["backup-tlsa"], checks.Where(c => c.Status != "ok").Select(c => c.Id));
        }
        finally
        {
            await lab.PublishTlsaAsync(lab.RightTlsa);
        }
    }

    [Fact]
    public async Task TheRightTenantAloneExitsZero()
    {
        await lab.RunLabAsync("primary-up");
        (int exit, List<Check> checks) = await DoctorAsync("suempresa");
        Assert.Equal(0, exit);
        Assert.All(checks, c => Assert.Equal("suempresa", c.Tenant));
        Assert.All(checks, c => Assert.True(c.Status == "ok", c.ToString()));
    }
}
