namespace Respaldo.Continuity;

/// <summary>
/// The backup's own STARTTLS certificate (<c>intake.certificateFile</c>, its first certificate):
/// whether it could be read, its validity and the DNS names it is for (subjectAltName, else the CN).
/// </summary>
public sealed record CertificateFacts(string Path, bool Readable, string Error, DateTimeOffset NotBefore, DateTimeOffset NotAfter, IReadOnlyList<string> Names, string Issuer)
{
    /// <summary>Each certificate of the file, the server's first, as DER (for TLSA's full-certificate selector).</summary>
    public IReadOnlyList<byte[]> Certificates { get; init; } = [];

    /// <summary>Each certificate's SubjectPublicKeyInfo, as DER (for TLSA's public-key selector), in the same order.</summary>
    public IReadOnlyList<byte[]> PublicKeys { get; init; } = [];

    /// <summary>
    /// True when the certificate chains to a CA of the system's trust store (with the rest of the file
    /// as intermediates): what a sender under MTA-STS requires (RFC 8461 §4.2); DANE-EE does not.
    /// </summary>
    public bool Trusted { get; init; }

    /// <summary>Why the chain did not verify ("" when <see cref="Trusted"/>).</summary>
    public string TrustError { get; init; } = "not verified";
}
