using System.Globalization;
using System.Text.RegularExpressions;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Service.Deploy;

/// <summary>
/// 'make deb' (deploy/package/build-deb) builds a package that installs, upgrades, removes and
/// purges cleanly on this machine with dpkg, keeps the mail and the journal throughout, and
/// whose unit systemd-analyze rates at 2.5 or lower. The machine is left as it was found:
/// users, groups and directories the package created are removed at the end.
/// </summary>
public sealed class DebianPackageTests
{
    private const double MaximumExposure = 2.5;

    private static Task<ProcessRunner.Result> Run(string file, params string[] args) =>
        ProcessRunner.RunAsync(file, args, timeout: TimeSpan.FromMinutes(8));

    private static async Task<bool> Exists(string database, string key) => (await Run("getent", database, key)).ExitCode == 0;

    [Fact]
    public async Task BuildsAPackageThatInstallsUpgradesAndRemovesCleanlyKeepingMailAndJournal()
    {
        ProcessRunner.Result installed = await Run("dpkg-query", "-W", "-f=${Status}", "respaldo");
        Assert.False(installed.Output.Contains("installed", StringComparison.Ordinal) && !installed.Output.Contains("not-installed", StringComparison.Ordinal),
            "the respaldo package is installed on this machine; this test would remove it");
        bool hadUser = await Exists("passwd", "respaldo");
        bool hadGroup = await Exists("group", "respaldo");
        bool hadAdminGroup = await Exists("group", "respaldo-admin");
        bool hadMailUser = await Exists("passwd", "respaldo-mail");
        bool hadMailGroup = await Exists("group", "respaldo-mail");
        bool hadState = Directory.Exists("/var/lib/respaldo");
        bool hadConfig = Directory.Exists("/etc/respaldo");
        try
        {
            (ProcessRunner.Result build, string deb) = await BuiltPackage.GetAsync();
            Assert.True(build.ExitCode == 0, build.ToString());
            Assert.Matches(@"/respaldo_0\.1\.\d+_amd64\.deb$", deb);

            ProcessRunner.Result info = await Run("dpkg-deb", "--field", deb, "Depends");
            foreach (string dependency in new[] { "postfix", "dovecot-core", "dovecot-lmtpd", "dovecot-imapd" })
            {
                Assert.Contains(dependency, info.Output.Split(',', StringSplitOptions.TrimEntries));
            }

            // Debian's own judge: no error, no warning (each exception is an override with its
            // reason, deploy/package/debian/lintian-overrides).
            ProcessRunner.Result lintian = await ProcessRunner.RunAsync("lintian", ["--tag-display-limit", "0", deb], timeout: TimeSpan.FromMinutes(5));
            string[] complaints = lintian.Output.Split('\n').Where(line => line.StartsWith("E: ", StringComparison.Ordinal) || line.StartsWith("W: ", StringComparison.Ordinal)).ToArray();
            Assert.True(lintian.ExitCode == 0 && complaints.Length == 0, $"lintian:\n{lintian}");
            ProcessRunner.Result contents = await Run("dpkg-deb", "--contents", deb);
            foreach (string part in new[] { "./usr/share/man/man8/respaldoctl.8.gz", "./usr/share/man/man8/respaldod.8.gz", "./usr/share/doc/respaldo/copyright",
                "./usr/share/doc/respaldo/changelog.gz", "./etc/respaldo/respaldo.json", "./usr/share/respaldo/prometheus/respaldo-rules.yml", "./usr/share/respaldo/grafana/respaldo.json" })
            {
                Assert.Contains(" " + part + "\n", contents.Output, StringComparison.Ordinal);
            }
            Assert.Equal("/etc/respaldo/respaldo.json", (await Run("dpkg-deb", "--info", deb, "conffiles")).Output.Trim());

            ProcessRunner.Result install = await Run("dpkg", "-i", deb);
            Assert.True(install.ExitCode == 0, install.ToString());
            Assert.Contains("Next steps", install.Output, StringComparison.Ordinal);
            Assert.True(await Exists("passwd", "respaldo") && await Exists("group", "respaldo-admin"));
            // Dovecot's mail user is not the daemon's (README "One user for mail, another for the daemon").
            Assert.True(await Exists("passwd", "respaldo-mail"));
            Assert.Contains("respaldo-mail", (await Run("id", "-nG", "respaldo")).Output.Split(' ', StringSplitOptions.TrimEntries));
            Assert.Equal("respaldo-mail:respaldo-mail 2770", (await Run("stat", "-c", "%U:%G %a", "/var/lib/respaldo/maildirs")).Output.Trim());
            Assert.Equal("respaldo:respaldo 711", (await Run("stat", "-c", "%U:%G %a", "/var/lib/respaldo")).Output.Trim());
            // The configuration holds password hashes: root:respaldo 0640, kept by dpkg's statoverride at every unpack.
            Assert.Equal("root:respaldo 640", (await Run("stat", "-c", "%U:%G %a", "/etc/respaldo/respaldo.json")).Output.Trim());
            // The programs say the package's version (respaldo_build_info says it too).
            string version = (await Run("dpkg-deb", "--field", deb, "Version")).Output.Trim();
            Assert.Equal($"respaldod {version}", (await Run("/usr/lib/respaldo/respaldod", "--version")).Output.Trim());
            ProcessRunner.Result check = await Run("/usr/bin/respaldoctl", "check-config");
            Assert.True(check.ExitCode == 0, check.ToString());
            Assert.True(File.Exists("/etc/respaldo/rendered/postfix/main.cf") && File.Exists("/etc/respaldo/rendered/dovecot/dovecot.conf"));
            ProcessRunner.Result doveconf = await Run("doveconf", "-c", "/etc/respaldo/rendered/dovecot/dovecot.conf", "-n");
            Assert.True(doveconf.ExitCode == 0, doveconf.ToString());
            // The self-contained daemon runs without a .NET installation of the machine's: it
            // starts, and refuses a missing configuration by name.
            ProcessRunner.Result daemon = await Run("/usr/lib/respaldo/respaldod", "--config", "/nonexistent/respaldo.json");
            Assert.NotEqual(0, daemon.ExitCode);
            Assert.Contains("/nonexistent/respaldo.json", daemon.Output + daemon.Error, StringComparison.Ordinal);

            ProcessRunner.Result security = await Run("systemd-analyze", "security", "--offline=yes", "/lib/systemd/system/respaldo.service");
            Match figure = Regex.Match(security.Output, @"Overall exposure level for respaldo\.service: (\d+\.\d)");
            Assert.True(figure.Success, security.ToString());
            double exposure = double.Parse(figure.Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.True(exposure <= MaximumExposure, $"exposure {exposure} > {MaximumExposure}:\n{security.Output}");

            // Mail, the journal and an edited configuration survive an upgrade and a removal.
            string mail = "/var/lib/respaldo/maildirs/example.com/info/new/1795800000.M1P1.test,S=5";
            Directory.CreateDirectory(Path.GetDirectoryName(mail)!);
            await File.WriteAllTextAsync(mail, "mail\n");
            await File.WriteAllTextAsync("/var/lib/respaldo/journal.sqlite", "journal");
            await File.AppendAllTextAsync("/etc/respaldo/respaldo.json", "// edited by the admin\n");
            // An installation from before the mail user: maildirs of respaldo, 0700/0600.
            await Run("chown", "-R", "respaldo:respaldo", "/var/lib/respaldo/maildirs");
            await Run("chmod", "-R", "u=rwX,go=", "/var/lib/respaldo/maildirs");
            ProcessRunner.Result upgrade = await Run("dpkg", "-i", deb);
            Assert.True(upgrade.ExitCode == 0, upgrade.ToString());
            Assert.Equal("respaldo-mail:respaldo-mail 660", (await Run("stat", "-c", "%U:%G %a", mail)).Output.Trim());
            Assert.Equal("respaldo-mail:respaldo-mail 2770", (await Run("stat", "-c", "%U:%G %a", Path.GetDirectoryName(mail)!)).Output.Trim());
            Assert.EndsWith("// edited by the admin\n", await File.ReadAllTextAsync("/etc/respaldo/respaldo.json"), StringComparison.Ordinal);
            Assert.Equal("root:respaldo 640", (await Run("stat", "-c", "%U:%G %a", "/etc/respaldo/respaldo.json")).Output.Trim());
            Assert.True(File.Exists(mail));

            ProcessRunner.Result remove = await Run("dpkg", "-r", "respaldo");
            Assert.True(remove.ExitCode == 0, remove.ToString());
            foreach (string gone in new[] { "/usr/lib/respaldo", "/usr/bin/respaldoctl", "/lib/systemd/system/respaldo.service", "/usr/share/dbus-1/system.d/es.respaldo.Control1.conf" })
            {
                Assert.False(Path.Exists(gone), $"{gone} is still there after dpkg -r");
            }
            Assert.True(File.Exists(mail) && File.Exists("/var/lib/respaldo/journal.sqlite") && File.Exists("/etc/respaldo/respaldo.json"));

            ProcessRunner.Result purge = await Run("dpkg", "--purge", "respaldo");
            Assert.True(purge.ExitCode == 0, purge.ToString());
            Assert.False(Directory.Exists("/etc/respaldo"));
            Assert.DoesNotContain("/etc/respaldo", (await Run("dpkg-statoverride", "--list")).Output, StringComparison.Ordinal);
            Assert.True(File.Exists(mail), "purge removed the mail");
            Assert.DoesNotContain("respaldo", (await Run("dpkg-query", "-W", "-f=${Package}\n")).Output.Split('\n'));
        }
        finally
        {
            await Run("dpkg", "--purge", "respaldo");
            if (!hadState && Directory.Exists("/var/lib/respaldo"))
            {
                Directory.Delete("/var/lib/respaldo", recursive: true);
            }
            if (!hadConfig && Directory.Exists("/etc/respaldo"))
            {
                Directory.Delete("/etc/respaldo", recursive: true);
            }
            if (!hadUser)
            {
                await Run("userdel", "respaldo");
            }
            if (!hadGroup && await Exists("group", "respaldo"))
            {
                await Run("groupdel", "respaldo");
            }
            if (!hadAdminGroup)
            {
                await Run("groupdel", "respaldo-admin");
            }
            if (!hadMailUser)
            {
                await Run("userdel", "respaldo-mail");
            }
            if (!hadMailGroup && await Exists("group", "respaldo-mail"))
            {
                await Run("groupdel", "respaldo-mail");
            }
        }
    }
}
