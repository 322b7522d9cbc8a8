using Respaldo.HandOver;
using Respaldo.Holds;

namespace Respaldo.Tests.HandOver;

public sealed class HoldAreaTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("respaldo-hold-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// A held message released into a mailbox whose maildir is gone: the directories come back
    /// with the maildirs' own mode (group-writable, setgid), so that Dovecot, as the mail user,
    /// can deliver into them again; made with the daemon's umask they refused every delivery.
    /// </summary>
    [Fact]
    public void AReleaseIntoAMissingMaildirMakesItAsTheMaildirsAreMade()
    {
        const UnixFileMode Maildirs = UnixFileMode.SetGroup | UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute;
        string root = Path.Combine(_dir, "maildirs");
        Directory.CreateDirectory(root);
        File.SetUnixFileMode(root, Maildirs);
        string held = Path.Combine(_dir, "held");
        Directory.CreateDirectory(held);
        string file = Path.Combine(held, "1795800000.M1P1.x");
        File.WriteAllText(file, "Subject: back\n\nhello\n");
        string maildir = Path.Combine(root, "suempresa.test", "antiguo");

        string released = HoldArea.Release(file, maildir);

        Assert.Equal(Path.Combine(maildir, "new", "1795800000.M1P1.x"), released);
        Assert.False(File.Exists(file));
        foreach (string dir in new[] { Path.Combine(root, "suempresa.test"), maildir, Path.Combine(maildir, "new"), Path.Combine(maildir, "cur"), Path.Combine(maildir, "tmp") })
        {
            Assert.Equal(Maildirs, File.GetUnixFileMode(dir));
        }
    }
}
