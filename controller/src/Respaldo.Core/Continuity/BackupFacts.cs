using System.Net;

namespace Respaldo.Continuity;

/// <summary>
/// What DNS said about the backup itself: its MX name (<c>hostname</c>) and that name's
/// addresses, the addresses it should have (<c>intake.publicAddresses</c>), and the reverse
/// DNS of each of those.
/// </summary>
public sealed record BackupFacts(string MxName, Lookup<IPAddress> Addresses, IReadOnlyList<IPAddress> PublicAddresses, IReadOnlyList<ReverseFacts> Reverse);
