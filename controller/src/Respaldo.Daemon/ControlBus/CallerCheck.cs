using Mono.Unix.Native;
using Respaldo.ControlBus;
using Tmds.DBus.Protocol;

namespace Respaldo.Daemon.ControlBus;

/// <summary>Who called, as the bus daemon vouches for it (it read the peer's credentials from the socket).</summary>
internal sealed record Caller(uint Uid, IReadOnlyList<uint>? Groups, uint? Pid)
{
    public override string ToString() => Pid is { } p ? $"uid {Uid} (pid {p})" : $"uid {Uid}";
}

/// <summary>
/// The service's own check for state-changing methods, behind the bus policy
/// (deploy/dbus/es.respaldo.Control1.conf), so that a permissive or mistaken policy does not
/// open the controller: the caller must be root or in the group respaldo-admin. The bus daemon
/// answers GetConnectionCredentials with the uid and, on Linux, the groups it read with
/// SO_PEERCRED/SO_PEERGROUPS; without the groups, the group database decides.
/// </summary>
internal static class CallerCheck
{
    public static async Task<Caller> IdentifyAsync(DBusConnection connection, string sender)
    {
        MessageBuffer call;
        using (MessageWriter writer = connection.GetMessageWriter())
        {
            writer.WriteMethodCallHeader("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                "GetConnectionCredentials", "s", Tmds.DBus.Protocol.MessageFlags.None);
            writer.WriteString(sender);
            call = writer.CreateMessage();
        }
        Dictionary<string, VariantValue> credentials = await connection.CallMethodAsync(call,
            static (Message m, object? _) => m.GetBodyReader().ReadDictionaryOfStringToVariantValue(), null);
        uint uid = credentials.TryGetValue("UnixUserID", out VariantValue u)
            ? u.GetUInt32()
            : throw new UnauthorizedAccessException("the bus did not tell the caller's uid");
        IReadOnlyList<uint>? groups = credentials.TryGetValue("UnixGroupIDs", out VariantValue g) ? g.GetArray<uint>() : null;
        uint? pid = credentials.TryGetValue("ProcessID", out VariantValue p) ? p.GetUInt32() : null;
        return new Caller(uid, groups, pid);
    }

    /// <summary>Root, or a member of <see cref="ControlContract.AdminGroup"/> (supplementary or primary group).</summary>
    public static bool IsAdmin(Caller caller)
    {
        if (caller.Uid == 0)
        {
            return true;
        }
        Group? admin = Syscall.getgrnam(ControlContract.AdminGroup);
        if (admin is null)
        {
            return false;
        }
        if (caller.Groups is { } groups)
        {
            return groups.Contains(admin.gr_gid);
        }
        Passwd? user = Syscall.getpwuid(caller.Uid);
        return user is not null && (user.pw_gid == admin.gr_gid || admin.gr_mem.Contains(user.pw_name, StringComparer.Ordinal));
    }
}
