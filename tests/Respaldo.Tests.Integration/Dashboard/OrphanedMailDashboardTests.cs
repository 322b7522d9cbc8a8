using System.Net;
using System.Text.RegularExpressions;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Dashboard;

/// <summary>
/// A tenant (or domain) removed from the configuration while its mail waits: the provider's admin
/// sees the stranded copies on the overview of every tenant; no tenant's user sees the name.
/// </summary>
[Collection(LabCollection.Name)]
public sealed partial class OrphanedMailDashboardTests(LabFixture lab)
{
    [GeneratedRegex("<section class=\"notice\" data-testid=\"orphaned-mail\">.*?</section>", RegexOptions.Singleline)]
    private static partial Regex Block();

    [Fact]
    public async Task MailOfARemovedDomainIsShownToTheAdminAndToNoTenant()
    {
        string path = (await lab.RunLabAsync("config")).Output.Trim();
        string config = await File.ReadAllTextAsync(path);
        string domain = $"retirada-{Guid.NewGuid().ToString("N")[..12]}.test";
        string domainDir = Path.Combine(lab["BACKUP_MAILDIRS"], domain);
        try
        {
            // The maildir Dovecot left for a domain the configuration no longer has: two messages waiting.
            foreach (string sub in new[] { "new", "cur" })
            {
                string dir = Path.Combine(domainDir, "info", sub);
                Directory.CreateDirectory(dir);
                await File.WriteAllTextAsync(Path.Combine(dir, $"1700000000.M1P1.backup.{sub}"), $"From: a@example.org\nTo: info@{domain}\nSubject: stranded\n\nstranded\n");
            }
            Assert.Equal(0, (await ProcessRunner.RunAsync("chown", ["-R", $"{lab["MAIL_USER"]}:{lab["MAIL_USER"]}", domainDir])).ExitCode);
            await ControllerReload.ReloadAsync(lab, path, config);

            using var admin = new DashboardClient(lab["DASHBOARD_URL"]);
            Assert.Equal(HttpStatusCode.Redirect, await admin.LoginAsync(lab["DASHBOARD_ADMIN_USER"], lab["DASHBOARD_ADMIN_PASSWORD"]));
            (HttpStatusCode status, string body, _) = await admin.GetAsync("/");
            Assert.Equal(HttpStatusCode.OK, status);
            Match block = Block().Match(body);
            Assert.True(block.Success, "the admin's overview has no orphaned-mail block");
            Assert.Contains($"data-place=\"maildirs\" data-name=\"{domain}\" data-value=\"2\"", block.Value, StringComparison.Ordinal);

            foreach ((string user, string tenant) in new[] { (lab["DASHBOARD_USER"], lab["DASHBOARD_TENANT"]), (lab["DASHBOARD_OTHER_USER"], lab["DASHBOARD_OTHER_TENANT"]) })
            {
                using var client = new DashboardClient(lab["DASHBOARD_URL"]);
                Assert.Equal(HttpStatusCode.Redirect, await client.LoginAsync(user, lab["DASHBOARD_PASSWORD"]));
                foreach (string page in new[] { "/", $"/t/{tenant}" })
                {
                    (_, string seen, _) = await client.GetAsync(page);
                    Assert.DoesNotContain(domain, seen, StringComparison.Ordinal);
                    Assert.DoesNotContain("orphaned-mail", seen, StringComparison.Ordinal);
                }
            }
        }
        finally
        {
            // Note: the lab is shared; the next reload forgets the planted domain.
            if (Directory.Exists(domainDir))
            {
                Directory.Delete(domainDir, recursive: true);
            }
            await ControllerReload.ReloadAsync(lab, path, config);
        }
    }
}
