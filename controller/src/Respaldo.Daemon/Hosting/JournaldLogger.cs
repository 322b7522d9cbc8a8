using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace Respaldo.Daemon.Hosting;

/// <summary>
/// Log lines straight into journald, with fields operators can filter on
/// (<c>journalctl -u respaldo TENANT=suempresa</c>): each line's template values <c>{Tenant}</c>,
/// <c>{Mailbox}</c>, <c>{Message}</c> (the stored file's name) and <c>{Outcome}</c> become
/// <c>TENANT=</c>, <c>MAILBOX=</c>, <c>MAIL_FILE=</c> and <c>OUTCOME=</c>, beside <c>MESSAGE=</c>,
/// <c>PRIORITY=</c>, <c>RESPALDO_EVENT=</c> (the event id) and <c>LOGGER=</c>. journald's own
/// protocol (systemd's "Native Journal Protocol"): one datagram per entry to its socket.
/// Note: the stored file's name is not <c>MESSAGE_ID=</c>, which journald keeps for 128-bit
/// catalog ids (systemd.journal-fields(7)).
/// </summary>
internal sealed class JournaldLoggerProvider : ILoggerProvider
{
    public const string SocketPath = "/run/systemd/journal/socket";

    private static readonly Dictionary<string, string> Fields = new(StringComparer.Ordinal)
    {
        ["Tenant"] = "TENANT",
        ["Mailbox"] = "MAILBOX",
        ["Message"] = "MAIL_FILE",
        ["Outcome"] = "OUTCOME",
    };

    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly UnixDomainSocketEndPoint _journal;
    private readonly object _lock = new();

    public JournaldLoggerProvider(string socketPath = SocketPath)
    {
        _journal = new UnixDomainSocketEndPoint(socketPath);
        // Note: an entry is one datagram; the kernel's default send buffer would cut long ones.
        _socket.SendBufferSize = 256 * 1024;
    }

    /// <summary>
    /// True when stderr is journald's stream for this process (systemd sets JOURNAL_STREAM to its
    /// device:inode) and its socket is there: under systemd, not in the lab nor a terminal.
    /// </summary>
    public static bool Applies()
    {
        string? stream = Environment.GetEnvironmentVariable("JOURNAL_STREAM");
        if (string.IsNullOrEmpty(stream) || !File.Exists(SocketPath) || Mono.Unix.Native.Syscall.fstat(2, out Mono.Unix.Native.Stat stat) != 0)
        {
            return false;
        }
        return stream == $"{stat.st_dev}:{stat.st_ino}";
    }

    public ILogger CreateLogger(string categoryName) => new JournaldLogger(this, categoryName);

    public void Dispose() => _socket.Dispose();

    /// <summary>One entry in journald's wire format: NAME=value lines, or NAME, a 64-bit length and the bytes for a value with a newline.</summary>
    internal static byte[] Encode(IEnumerable<(string Name, string Value)> fields)
    {
        using var buffer = new MemoryStream();
        Span<byte> length = stackalloc byte[8];
        foreach ((string name, string value) in fields)
        {
            buffer.Write(Encoding.ASCII.GetBytes(name));
            byte[] bytes = Encoding.UTF8.GetBytes(value);
            if (value.Contains('\n', StringComparison.Ordinal))
            {
                buffer.WriteByte((byte)'\n');
                BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)bytes.Length);
                buffer.Write(length);
            }
            else
            {
                buffer.WriteByte((byte)'=');
            }
            buffer.Write(bytes);
            buffer.WriteByte((byte)'\n');
        }
        return buffer.ToArray();
    }

    internal static int Priority(LogLevel level) => level switch
    {
        LogLevel.Critical => 2,
        LogLevel.Error => 3,
        LogLevel.Warning => 4,
        LogLevel.Information => 6,
        _ => 7,
    };

    internal static List<(string Name, string Value)> Entry(string category, LogLevel level, EventId eventId, string message, Exception? exception, object? state)
    {
        var fields = new List<(string, string)>
        {
            ("MESSAGE", exception is null ? message : $"{message}\n{exception}"),
            ("PRIORITY", Priority(level).ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("SYSLOG_IDENTIFIER", "respaldod"),
            ("LOGGER", category),
        };
        if (eventId.Id != 0)
        {
            fields.Add(("RESPALDO_EVENT", eventId.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        if (state is IReadOnlyList<KeyValuePair<string, object?>> values)
        {
            foreach ((string key, object? value) in values)
            {
                if (Fields.TryGetValue(key, out string? field) && value is not null)
                {
                    fields.Add((field, value.ToString() ?? ""));
                }
            }
        }
        return fields;
    }

    internal void Send(List<(string Name, string Value)> fields)
    {
        byte[] datagram = Encode(fields);
        try
        {
            lock (_lock)
            {
                _socket.SendTo(datagram, _journal);
            }
        }
        catch (SocketException)
        {
            // Note: journald gone (restarting) or the entry too large: the line goes to stderr,
            // which is journald's stream too, without its fields; never lost silently, never thrown.
            Console.Error.WriteLine($"<{fields[1].Value}>{fields[0].Value}");
        }
    }

    private sealed class JournaldLogger(JournaldLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }
            provider.Send(Entry(category, logLevel, eventId, formatter(state, exception), exception, state));
        }
    }
}
