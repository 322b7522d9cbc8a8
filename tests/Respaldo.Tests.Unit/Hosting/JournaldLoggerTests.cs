using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Respaldo.Daemon.Hosting;

namespace Respaldo.Tests.Hosting;

/// <summary>
/// The daemon's entries in journald's native protocol, read back from a datagram socket standing
/// where journald's is: the fields operators filter on come from each line's template values.
/// </summary>
public sealed partial class JournaldLoggerTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("respaldo-journald-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>Parses one datagram: NAME=value lines, and NAME\n + 64-bit little-endian length + bytes + \n.</summary>
    private static List<(string Name, string Value)> Parse(byte[] datagram)
    {
        var fields = new List<(string, string)>();
        int i = 0;
        while (i < datagram.Length)
        {
            int end = Array.IndexOf(datagram, (byte)'\n', i);
            string line = Encoding.UTF8.GetString(datagram, i, end - i);
            int eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                fields.Add((line[..eq], line[(eq + 1)..]));
                i = end + 1;
                continue;
            }
            int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(datagram.AsSpan(end + 1, 8));
            fields.Add((line, Encoding.UTF8.GetString(datagram, end + 9, length)));
            Assert.Equal((byte)'\n', datagram[end + 9 + length]);
            i = end + 10 + length;
        }
        return fields;
    }

    private async Task<List<(string Name, string Value)>> LogOneAsync(Action<ILogger> log)
    {
        string path = Path.Combine(_directory, "socket");
        using var journal = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        journal.Bind(new UnixDomainSocketEndPoint(path));
        using (var provider = new JournaldLoggerProvider(path))
        {
            log(provider.CreateLogger("Respaldo.Controller"));
        }
        byte[] buffer = new byte[65536];
        int n = await journal.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(5));
        return Parse(buffer[..n]);
    }

    [Fact]
    public async Task ALinesTenantMailboxFileAndOutcomeBecomeFieldsBesideItsMessageAndPriority()
    {
        List<(string Name, string Value)> entry = await LogOneAsync(logger =>
            LogDeferred(logger, "suempresa", "info@suempresa.test", "1796237433.M1P2.vm,S=5", "deferred", "451 try later"));
        var fields = entry.ToDictionary(f => f.Name, f => f.Value);
        Assert.Equal("tenant suempresa mailbox info@suempresa.test message 1796237433.M1P2.vm,S=5: deferred: 451 try later", fields["MESSAGE"]);
        Assert.Equal("4", fields["PRIORITY"]);
        Assert.Equal("respaldod", fields["SYSLOG_IDENTIFIER"]);
        Assert.Equal("1404", fields["RESPALDO_EVENT"]);
        Assert.Equal("Respaldo.Controller", fields["LOGGER"]);
        Assert.Equal("suempresa", fields["TENANT"]);
        Assert.Equal("info@suempresa.test", fields["MAILBOX"]);
        Assert.Equal("1796237433.M1P2.vm,S=5", fields["MAIL_FILE"]);
        Assert.Equal("deferred", fields["OUTCOME"]);
        // journald's own fields are not taken over: MESSAGE_ID= is its catalog's.
        Assert.DoesNotContain("MESSAGE_ID", fields.Keys);
        Assert.DoesNotContain("REASON", fields.Keys);
    }

    [Fact]
    public async Task AnExceptionGoesIntoTheMessageInTheBinaryFormForValuesWithNewlines()
    {
        List<(string Name, string Value)> entry = await LogOneAsync(logger =>
            LogFailed(logger, new InvalidOperationException("the disk is full\nsecond line"), "otra"));
        var fields = entry.ToDictionary(f => f.Name, f => f.Value);
        Assert.StartsWith("tenant otra: journal failed\nSystem.InvalidOperationException: the disk is full\nsecond line", fields["MESSAGE"], StringComparison.Ordinal);
        Assert.Equal("3", fields["PRIORITY"]);
        Assert.Equal("otra", fields["TENANT"]);
        Assert.Equal("9", fields["RESPALDO_EVENT"]);
    }

    [Fact]
    public void OnlyAStderrThatIsJournaldsStreamTurnsItOn()
    {
        // This test host's stderr is no journald stream, whatever JOURNAL_STREAM says.
        string? before = Environment.GetEnvironmentVariable("JOURNAL_STREAM");
        try
        {
            Environment.SetEnvironmentVariable("JOURNAL_STREAM", "1:2");
            Assert.False(JournaldLoggerProvider.Applies());
        }
        finally
        {
            Environment.SetEnvironmentVariable("JOURNAL_STREAM", before);
        }
    }

    [LoggerMessage(EventId = 1404, Level = LogLevel.Warning, Message = "tenant {Tenant} mailbox {Mailbox} message {Message}: {Outcome}: {Reason}")]
    private static partial void LogDeferred(ILogger logger, string tenant, string mailbox, string message, string outcome, string reason);

    [LoggerMessage(EventId = 9, Level = LogLevel.Error, Message = "tenant {Tenant}: journal failed")]
    private static partial void LogFailed(ILogger logger, Exception e, string tenant);
}
