using System.Net;

namespace Respaldo.Continuity;

/// <summary>One address's reverse DNS (PTR names) and each of those names' own addresses (forward-confirmed reverse DNS).</summary>
public sealed record ReverseFacts(IPAddress Address, Lookup<string> Names, IReadOnlyDictionary<string, Lookup<IPAddress>> Forward);
