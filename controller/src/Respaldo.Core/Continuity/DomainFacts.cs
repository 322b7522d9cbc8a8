using System.Net;

namespace Respaldo.Continuity;

/// <summary>
/// What DNS said about one of a tenant's domains: <see cref="Subject"/> as configured
/// (<c>suempresa.es</c> or <c>*.suempresa.es</c>), <see cref="Name"/> the name asked (for a
/// pattern, a sample name under it), its MX records, and the addresses of each MX target.
/// </summary>
public sealed record DomainFacts(string Subject, string Name, Lookup<MxHost> Mx, IReadOnlyDictionary<string, Lookup<IPAddress>> TargetAddresses);
