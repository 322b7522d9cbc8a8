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
}
