using System.Reflection;
using System.Xml.Linq;

namespace Respaldo.ControlBus;

/// <summary>
/// The control bus contract, read from <c>es.respaldo.Control1.xml</c> (embedded): names and
/// signatures come from that one file, so the service and respaldoctl cannot drift apart.
/// </summary>
public sealed class ControlContract
{
    public const string BusName = "es.respaldo.Control1";
    public const string ObjectPath = "/es/respaldo/Control";
    public const string Interface = "es.respaldo.Control1";
    public const string PrivilegedAnnotation = "es.respaldo.Control1.Privileged";

    /// <summary>The group whose members may call privileged methods (besides root); the bus policy names it too.</summary>
    public const string AdminGroup = "respaldo-admin";

    public static class Errors
    {
        public const string UnknownTenant = Interface + ".Error.UnknownTenant";
        public const string NotHeld = Interface + ".Error.NotHeld";
        public const string AccessDenied = Interface + ".Error.AccessDenied";
        public const string NotAvailable = Interface + ".Error.NotAvailable";
        public const string Failed = Interface + ".Error.Failed";
    }

    /// <summary>One method: D-Bus signatures of its in and out arguments, and whether it changes state.</summary>
    public sealed record Method(string Name, string InSignature, string OutSignature, bool Privileged);

    public sealed record Signal(string Name, string Signature);

    private ControlContract(string xml)
    {
        Xml = xml;
        XElement iface = XDocument.Parse(xml).Root!.Elements("interface").Single(e => (string?)e.Attribute("name") == Interface);
        static string Sig(XElement member, string? direction) => string.Concat(member.Elements("arg")
            .Where(a => direction is null || ((string?)a.Attribute("direction") ?? "in") == direction)
            .Select(a => (string)a.Attribute("type")!));
        Methods = iface.Elements("method").ToDictionary(
            m => (string)m.Attribute("name")!,
            m => new Method(
                (string)m.Attribute("name")!,
                Sig(m, "in"),
                Sig(m, "out"),
                m.Elements("annotation").Any(a => (string?)a.Attribute("name") == PrivilegedAnnotation && (string?)a.Attribute("value") == "true")),
            StringComparer.Ordinal);
        Signals = iface.Elements("signal").ToDictionary(
            s => (string)s.Attribute("name")!, s => new Signal((string)s.Attribute("name")!, Sig(s, null)), StringComparer.Ordinal);
    }

    /// <summary>The contract as shipped in this build.</summary>
    public static ControlContract Current { get; } = new(ReadEmbedded());

    /// <summary>The introspection XML, served verbatim by the daemon for org.freedesktop.DBus.Introspectable.</summary>
    public string Xml { get; }

    public IReadOnlyDictionary<string, Method> Methods { get; }

    public IReadOnlyDictionary<string, Signal> Signals { get; }

    public Method this[string name] => Methods.TryGetValue(name, out Method? m)
        ? m
        : throw new KeyNotFoundException($"{Interface} has no method {name}");

    private static string ReadEmbedded()
    {
        Assembly assembly = typeof(ControlContract).Assembly;
        using Stream stream = assembly.GetManifestResourceStream("Respaldo.ControlBus.es.respaldo.Control1.xml")
            ?? throw new InvalidOperationException("the control bus contract is not embedded in " + assembly.GetName().Name);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
