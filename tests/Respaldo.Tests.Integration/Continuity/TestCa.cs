using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Respaldo.Tests.Lab;

/// <summary>
/// A CA of the test's own (System.Security.Cryptography's CertificateRequest), its certificate in a
/// PEM file the lab's controller is told to trust (LAB_TRUSTED_CA), and certificates it issues.
/// </summary>
public sealed class TestCa : IDisposable
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509Certificate2 _certificate;

    public TestCa()
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        var request = new CertificateRequest("CN=Respaldo test CA", _key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        _certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));
        PemPath = Path.Combine(Path.GetTempPath(), $"respaldo-test-ca-{Environment.ProcessId}-{Guid.NewGuid():N}.pem");
        File.WriteAllText(PemPath, _certificate.ExportCertificatePem());
    }

    /// <summary>The CA's certificate, PEM.</summary>
    public string PemPath { get; }

    public string CertificatePem => _certificate.ExportCertificatePem();

    /// <summary>A server certificate for <paramref name="names"/> on <paramref name="key"/>, valid from a day ago for <paramref name="validFor"/>.</summary>
    public X509Certificate2 Issue(AsymmetricAlgorithm key, TimeSpan validFor, params string[] names)
    {
        CertificateRequest request = key switch
        {
            RSA rsa => new CertificateRequest($"CN={names[0]}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            ECDsa ec => new CertificateRequest($"CN={names[0]}", ec, HashAlgorithmName.SHA256),
            _ => throw new ArgumentException("an RSA or ECDSA key", nameof(key)),
        };
        var san = new SubjectAlternativeNameBuilder();
        foreach (string n in names)
        {
            san.AddDnsName(n);
        }
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_certificate, true, false));
        DateTimeOffset now = DateTimeOffset.UtcNow;
        // Note: the generator overload: the CA's key (ECDSA) need not be of the issued key's algorithm (the lab's is RSA).
        using X509Certificate2 issued = request.Create(_certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(_key), now.AddDays(-1), now + validFor, RandomNumberGenerator.GetBytes(12));
        return key is RSA r ? issued.CopyWithPrivateKey(r) : issued.CopyWithPrivateKey((ECDsa)key);
    }

    public void Dispose()
    {
        _certificate.Dispose();
        _key.Dispose();
        File.Delete(PemPath);
    }
}
