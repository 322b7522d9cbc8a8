using Tmds.DBus.Protocol;

namespace Respaldo.Daemon.ControlBus;

/// <summary>
/// Which bus the control interface is offered on: <c>--control-bus</c> or
/// <c>$RESPALDO_CONTROL_BUS</c>: <c>system</c> (the system bus, <c>$DBUS_SYSTEM_BUS_ADDRESS</c>
/// or /run/dbus/system_bus_socket; must work), a D-Bus address (must work), <c>none</c>, or
/// unset: the system bus when there is one — required under systemd, where the unit orders
/// itself after dbus.socket, and only a warning elsewhere (the lab, a developer's shell).
/// </summary>
internal sealed record ControlBusOptions(string? Address, bool Required)
{
    public static ControlBusOptions From(string? setting, bool underServiceManager) => setting switch
    {
        null or "" or "auto" => new(DBusAddress.System, underServiceManager),
        "none" => new(null, false),
        "system" => new(DBusAddress.System, true),
        _ => new(setting, true),
    };
}
