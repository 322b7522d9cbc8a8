using Respaldo.ControlBus;
using Tmds.DBus.Protocol;

namespace Respaldo.Ctl.ControlBus;

/// <summary>The daemon could not be reached: not running, or the bus itself is not there.</summary>
internal sealed class DaemonUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// respaldoctl's side of es.respaldo.Control1: each call takes its name and signatures from
/// the contract (ControlContract, the introspection XML the daemon serves), writes the
/// arguments, and reads the reply. Errors come back as <see cref="DBusErrorReplyException"/>
/// with the contract's error names.
/// </summary>
internal sealed class ControlClient : IDisposable
{
    private static readonly ControlContract Contract = ControlContract.Current;
    private readonly DBusConnection _connection;

    private ControlClient(DBusConnection connection, string address)
    {
        _connection = connection;
        Address = address;
    }

    public string Address { get; }

    /// <summary>The bus: --bus, else $RESPALDO_CONTROL_BUS when it is an address, else the system bus ($DBUS_SYSTEM_BUS_ADDRESS).</summary>
    public static string ResolveAddress(string? given)
    {
        string? fromEnvironment = Environment.GetEnvironmentVariable("RESPALDO_CONTROL_BUS");
        string? setting = given ?? (fromEnvironment is null or "" or "auto" or "none" ? null : fromEnvironment);
        return setting is null or "system" ? DBusAddress.System! : setting;
    }

    public static async Task<ControlClient> ConnectAsync(string? address)
    {
        string resolved = ResolveAddress(address);
        var connection = new DBusConnection(resolved);
        try
        {
            await connection.ConnectAsync();
        }
        catch (Exception e) when (e is DBusExceptionBase or IOException or System.Net.Sockets.SocketException)
        {
            connection.Dispose();
            throw new DaemonUnavailableException($"cannot reach the D-Bus system bus at {resolved}: {e.Message}", e);
        }
        return new ControlClient(connection, resolved);
    }

    public delegate void ArgumentWriter(ref MessageWriter writer);

    /// <summary>Calls <paramref name="method"/> of the contract; <paramref name="read"/> gets the reply body.</summary>
    public async Task<T> CallAsync<T>(string method, ArgumentWriter? write, Func<Message, T> read)
    {
        ControlContract.Method m = Contract[method];
        MessageBuffer call;
        MessageWriter writer = _connection.GetMessageWriter();
        try
        {
            writer.WriteMethodCallHeader(ControlContract.BusName, ControlContract.ObjectPath, ControlContract.Interface, m.Name,
                m.InSignature.Length == 0 ? null : m.InSignature, MessageFlags.None);
            write?.Invoke(ref writer);
            call = writer.CreateMessage();
        }
        finally
        {
            writer.Dispose();
        }
        try
        {
            return await _connection.CallMethodAsync(call, (Message reply, object? _) =>
            {
                if ((reply.SignatureAsString ?? "") != m.OutSignature)
                {
                    throw new InvalidDataException($"{m.Name} answered ({reply.SignatureAsString}), the contract says ({m.OutSignature}): is respaldod of another version?");
                }
                return read(reply);
            }, null);
        }
        catch (DBusErrorReplyException e) when (e.ErrorName is "org.freedesktop.DBus.Error.ServiceUnknown" or "org.freedesktop.DBus.Error.NameHasNoOwner")
        {
            throw new DaemonUnavailableException($"respaldod is not running (nobody owns {ControlContract.BusName} on {Address})", e);
        }
        catch (DBusConnectionException e)
        {
            throw new DaemonUnavailableException($"the bus connection broke: {e.Message}", e);
        }
    }

    public static List<Dictionary<string, VariantValue>> ReadRecords(ref Reader reader)
    {
        var records = new List<Dictionary<string, VariantValue>>();
        ArrayEnd end = reader.ReadArrayStart(DBusType.Array);
        while (reader.HasNext(end))
        {
            records.Add(reader.ReadDictionaryOfStringToVariantValue());
        }
        return records;
    }

    public Task<(Dictionary<string, VariantValue> Daemon, List<Dictionary<string, VariantValue>> Tenants)> GetStatusAsync() =>
        CallAsync("GetStatus", null, m =>
        {
            Reader r = m.GetBodyReader();
            Dictionary<string, VariantValue> daemon = r.ReadDictionaryOfStringToVariantValue();
            return (daemon, ReadRecords(ref r));
        });

    public Task<List<Dictionary<string, VariantValue>>> ListAsync(string method, string tenant) =>
        CallAsync(method, (ref MessageWriter w) => w.WriteString(tenant), m =>
        {
            Reader r = m.GetBodyReader();
            return ReadRecords(ref r);
        });

    public Task<(string[] Tenants, long RequestedAt)> HandOverNowAsync(string tenant) =>
        CallAsync("HandOverNow", (ref MessageWriter w) => w.WriteString(tenant), m =>
        {
            Reader r = m.GetBodyReader();
            string[] tenants = r.ReadArrayOfString();
            return (tenants, r.ReadInt64());
        });

    public Task<string> CallWithIdAsync(string method, long id) =>
        CallAsync(method, (ref MessageWriter w) => w.WriteInt64(id), m => m.GetBodyReader().ReadString());

    public Task<string[]> ReloadAsync() =>
        CallAsync("Reload", null, m => m.GetBodyReader().ReadArrayOfString());

    public void Dispose() => _connection.Dispose();
}
