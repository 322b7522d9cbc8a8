using System.Text;
using Mono.Unix.Native;
using Respaldo.Configuration;
using Respaldo.Security;

namespace Respaldo.Tests.Security;

/// <summary>
/// Issue 16: render runs as root and makes the credential in STATE/secrets/, inside a directory
/// the mail user owns. A process running as that user (the daemon, any Dovecot mail process)
/// plants symlinks there; root must not chmod, chown or write anything outside.
/// </summary>
/// <remarks>
/// Note: these tests play root's part (render runs as root), as every tier does; the mail user
/// is a uid/gid no account uses, so a file given to it by mistake shows at once.
/// </remarks>
public sealed class ServiceCredentialTests : IDisposable
{
    private const uint MailUid = 64123;
    private const uint MailGid = 64124;
    private const uint DovecotGid = 64125;

    private readonly string _dir = Directory.CreateTempSubdirectory("respaldo-secrets-").FullName;
    private readonly RespaldoSettings _settings;
    private readonly string _outside;

    public ServiceCredentialTests()
    {
        Assert.True(Syscall.getuid() == 0, "render runs as root: run the unit tier as root (make test-unit)");
        string state = Path.Combine(_dir, "state");
        Directory.CreateDirectory(state);
        // The mail user owns STATE/, as tmpfiles.d makes /var/lib/respaldo.
        Assert.Equal(0, Syscall.chown(state, MailUid, MailGid));
        _outside = Path.Combine(_dir, "etc");
        Directory.CreateDirectory(_outside);
        File.SetUnixFileMode(_outside, (UnixFileMode)0x1ED); // 0755
        string json = $$"""
            {
              "hostname": "mail-backup.suempresa.test",
              "stateDirectory": "{{state}}",
              "storage": { "allocation": "1GB", "minimumFree": "1000" },
              "tenants": [ { "id": "t", "domains": ["t.test"], "primary": { "hosts": ["127.0.0.1:25"] }, "mailboxes": [ { "address": "a@t.test" } ] } ]
            }
            """;
        (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) = ConfigurationLoader.Parse(Encoding.UTF8.GetBytes(json), "/test.json");
        Assert.True(settings is not null, string.Join("; ", errors));
        _settings = settings;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Precious(string name)
    {
        string path = Path.Combine(_outside, name);
        File.WriteAllText(path, "root:x:0:0:precious\n");
        File.SetUnixFileMode(path, (UnixFileMode)0x1A4); // 0644
        return path;
    }

    private static (string Content, uint Mode, uint Uid, uint Gid) Look(string path)
    {
        Assert.Equal(0, Syscall.lstat(path, out Stat st));
        string content = (st.st_mode & FilePermissions.S_IFMT) == FilePermissions.S_IFREG ? File.ReadAllText(path) : "";
        return (content, (uint)st.st_mode, st.st_uid, st.st_gid);
    }

    private void AssertTrustedCredential()
    {
        string secrets = ServiceCredential.Directory(_settings);
        Assert.Equal(0, Syscall.lstat(secrets, out Stat dir));
        Assert.Equal(FilePermissions.S_IFDIR, dir.st_mode & FilePermissions.S_IFMT);
        Assert.Equal(0u, dir.st_uid);
        Assert.Equal(0x1C9u, (uint)dir.st_mode & 0xFFF); // 0711
        foreach ((string path, uint gid) in new[] { (ServiceCredential.PasswordPath(_settings), MailGid), (ServiceCredential.PasswdPath(_settings), DovecotGid) })
        {
            Assert.Equal(0, Syscall.lstat(path, out Stat f));
            Assert.Equal(FilePermissions.S_IFREG, f.st_mode & FilePermissions.S_IFMT);
            Assert.Equal((0u, gid, 0x120u), (f.st_uid, f.st_gid, (uint)f.st_mode & 0xFFF)); // root:GROUP 0440
        }
        Assert.NotNull(ServiceCredential.Load(_settings));
    }

    [Fact]
    public void ASymlinkPlantedAtSecretsDoesNotLetRenderChmodOrChownTheDirectoryItPointsTo()
    {
        string password = Precious("submission.password");
        string passwd = Precious("submission.passwd");
        var before = new[] { _outside, password, passwd }.Select(Look).ToList();
        File.CreateSymbolicLink(ServiceCredential.Directory(_settings), _outside);

        CredentialChange change = ServiceCredential.EnsureCreated(_settings, (MailUid, MailGid), DovecotGid);

        Assert.Equal(before, new[] { _outside, password, passwd }.Select(Look).ToList());
        Assert.Equal(["submission.passwd", "submission.password"], Directory.GetFiles(_outside).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.True(change.Created);
        Assert.NotNull(change.MovedAside);
        Assert.Equal(_outside, new FileInfo(change.MovedAside).LinkTarget);
        AssertTrustedCredential();
    }

    [Fact]
    public void SymlinksPlantedAtTheCredentialFilesDoNotLetRenderChownOrReadTheFilesTheyPointTo()
    {
        // A secrets/ the mail user owns, as earlier versions made it, with its files replaced by links.
        string secrets = ServiceCredential.Directory(_settings);
        Directory.CreateDirectory(secrets);
        Assert.Equal(0, Syscall.chown(secrets, MailUid, MailGid));
        string shadow = Precious("shadow");
        string group = Precious("group");
        var before = new[] { shadow, group }.Select(Look).ToList();
        File.CreateSymbolicLink(ServiceCredential.PasswordPath(_settings), shadow);
        File.CreateSymbolicLink(ServiceCredential.PasswdPath(_settings), group);

        CredentialChange change = ServiceCredential.EnsureCreated(_settings, (MailUid, MailGid), DovecotGid);

        Assert.Equal(before, new[] { shadow, group }.Select(Look).ToList());
        Assert.True(change.Created);
        Assert.DoesNotContain("precious", File.ReadAllText(ServiceCredential.PasswordPath(_settings)), StringComparison.Ordinal);
        AssertTrustedCredential();
    }

    [Fact]
    public void SymlinksInARootOwnedSecretsDirectoryAreReplacedNotFollowed()
    {
        string secrets = ServiceCredential.Directory(_settings);
        Directory.CreateDirectory(secrets);
        string shadow = Precious("shadow");
        var before = Look(shadow);
        File.CreateSymbolicLink(ServiceCredential.PasswordPath(_settings), shadow);
        File.CreateSymbolicLink(ServiceCredential.PasswdPath(_settings), shadow);

        CredentialChange change = ServiceCredential.EnsureCreated(_settings, (MailUid, MailGid), DovecotGid);

        Assert.Equal(before, Look(shadow));
        Assert.True(change.Created);
        Assert.Null(change.MovedAside);
        AssertTrustedCredential();
    }

    [Fact]
    public void RenderingTwiceKeepsTheCredential()
    {
        Assert.True(ServiceCredential.EnsureCreated(_settings, (MailUid, MailGid), DovecotGid).Created);
        string password = ServiceCredential.Load(_settings)!.Password;

        CredentialChange again = ServiceCredential.EnsureCreated(_settings, (MailUid, MailGid), DovecotGid);

        Assert.False(again.Created);
        Assert.Null(again.MovedAside);
        Assert.Equal(password, ServiceCredential.Load(_settings)!.Password);
        AssertTrustedCredential();
    }
}
