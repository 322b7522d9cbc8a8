using System.Xml.Linq;
using Respaldo.ControlBus;
using Respaldo.Events;

namespace Respaldo.Tests.ControlBus;

/// <summary>The introspection XML is the contract; the bus policy must agree with it on who may call what.</summary>
public sealed class ControlContractTests
{
    private static readonly ControlContract Contract = ControlContract.Current;

    private static XDocument Policy => XDocument.Load(Path.Combine(RepoPaths.Root, "deploy", "dbus", "es.respaldo.Control1.conf"));

    [Fact]
    public void TheContractHasTheMethodsAndSignalsRespaldoctlUses()
    {
        Assert.Equal(
            ["Bounce", "CheckSetup", "GetSetupChecks", "GetStatus", "HandOverNow", "ListHeld", "ListWaiting", "ProbeNow", "Release", "Reload", "RunDrill"],
            Contract.Methods.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["HandOverFinished", "MessageHeld", "PrimaryCameUp", "PrimaryWentDown"], Contract.Signals.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(("", "a{sv}aa{sv}"), (Contract["GetStatus"].InSignature, Contract["GetStatus"].OutSignature));
        Assert.Equal(("s", "asx"), (Contract["HandOverNow"].InSignature, Contract["HandOverNow"].OutSignature));
        Assert.Equal(("x", "s"), (Contract["Release"].InSignature, Contract["Release"].OutSignature));
        Assert.Equal(("s", "aa{sv}"), (Contract["CheckSetup"].InSignature, Contract["CheckSetup"].OutSignature));
        Assert.Equal(("s", "aa{sv}"), (Contract["GetSetupChecks"].InSignature, Contract["GetSetupChecks"].OutSignature));
        Assert.Equal(("s", "aa{sv}"), (Contract["RunDrill"].InSignature, Contract["RunDrill"].OutSignature));
    }

    [Fact]
    public void OnlyReadingMethodsAreOpenToEveryone()
    {
        Assert.Equal(["GetSetupChecks", "GetStatus", "ListHeld", "ListWaiting"],
            Contract.Methods.Values.Where(m => !m.Privileged).Select(m => m.Name).Order(StringComparer.Ordinal));
        Assert.All(Contract.Methods.Values.Where(m => m.Name is "HandOverNow" or "ProbeNow" or "CheckSetup" or "RunDrill" or "Release" or "Bounce" or "Reload"), m => Assert.True(m.Privileged));
    }

    [Fact]
    public void ThePolicyLetsEveryoneCallExactlyTheUnprivilegedMethods()
    {
        XElement everyone = Policy.Root!.Elements("policy").Single(p => (string?)p.Attribute("context") == "default");
        var open = everyone.Elements("allow")
            .Where(a => (string?)a.Attribute("send_interface") == ControlContract.Interface)
            .Select(a => (string)a.Attribute("send_member")!)
            .Order(StringComparer.Ordinal);
        Assert.Equal(Contract.Methods.Values.Where(m => !m.Privileged).Select(m => m.Name).Order(StringComparer.Ordinal), open);
        Assert.All(everyone.Elements("allow"), a => Assert.Equal(ControlContract.BusName, (string?)a.Attribute("send_destination")));
    }

    [Fact]
    public void ThePolicyGivesChangesToRootAndTheAdminGroupAndTheNameToTheDaemonsUser()
    {
        XElement admin = Policy.Root!.Elements("policy").Single(p => (string?)p.Attribute("group") == ControlContract.AdminGroup);
        Assert.Equal(ControlContract.BusName, (string?)admin.Element("allow")!.Attribute("send_destination"));
        XElement daemon = Policy.Root!.Elements("policy").Single(p => (string?)p.Attribute("user") == "respaldo");
        Assert.Equal(ControlContract.BusName, (string?)daemon.Element("allow")!.Attribute("own"));
        Assert.DoesNotContain(Policy.Descendants("allow"), a => (string?)a.Attribute("own") is "*" || (string?)a.Attribute("send_destination") is "*");
    }
}
