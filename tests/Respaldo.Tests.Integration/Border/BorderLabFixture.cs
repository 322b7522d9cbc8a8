namespace Respaldo.Tests.Lab;

/// <summary>
/// The lab with the border on: rspamd as the milter (LAB_FILTER=on), the lab's DNS (NSD)
/// answering for the test zones. Tests add zones with <see cref="AddZoneAsync"/>; a
/// sender's "server" is a source address on 127.0.0.0/8 (the whole range routes to lo).
/// </summary>
public sealed class BorderLabFixture : LabFixture
{
    public BorderLabFixture()
        : base("border", new Dictionary<string, string> { ["LAB_FILTER"] = "on" }, configured: false)
    {
    }

    /// <summary>Writes <c>NAME.zone</c> into the lab's zone directory and restarts its DNS.</summary>
    public async Task AddZoneAsync(string name, string zoneFileText)
    {
        await File.WriteAllTextAsync(Path.Combine(this["DNS_ZONES"], name + ".zone"), zoneFileText).ConfigureAwait(false);
        await RunLabAsync("dns-reload").ConfigureAwait(false);
    }

    /// <summary>Writes several zones, then restarts the DNS once.</summary>
    public async Task AddZonesAsync(IEnumerable<(string Name, string Text)> zones)
    {
        foreach ((string name, string text) in zones)
        {
            await File.WriteAllTextAsync(Path.Combine(this["DNS_ZONES"], name + ".zone"), text).ConfigureAwait(false);
        }
        await RunLabAsync("dns-reload").ConfigureAwait(false);
    }
}

[CollectionDefinition(Name)]
public sealed class BorderLabCollection : ICollectionFixture<BorderLabFixture>
{
    public const string Name = "border lab";
}
