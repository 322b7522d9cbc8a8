using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Respaldo.Continuity;
using static Respaldo.Tests.Continuity.ContinuityFacts;

namespace Respaldo.Tests.Continuity;

/// <summary>DANE for the backup (RFC 7672) against real certificates: a leaf, and a leaf signed by a CA in the same PEM file.</summary>
public sealed class TlsaChecksTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("respaldo-tlsa-").FullName;
    private readonly CertificateFacts _leafOnly;
    private readonly CertificateFacts _withCa;
    private readonly byte[] _caDer;

    public TlsaChecksTests()
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=Lab CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using X509Certificate2 ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(365));
        _caDer = ca.RawData;
        using var leafKey = RSA.Create(2048);
        var leafRequest = new CertificateRequest($"CN={BackupName}", leafKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using X509Certificate2 leaf = leafRequest.Create(ca, now.AddDays(-1), now.AddDays(90), [1, 2, 3, 4]);
        _leafOnly = SetupFactGatherer.Certificate(Write("leaf.crt", leaf.ExportCertificatePem()));
        _withCa = SetupFactGatherer.Certificate(Write("chain.crt", leaf.ExportCertificatePem() + "\n" + ca.ExportCertificatePem()));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static Lookup<TlsaRecordFact> Records(params TlsaRecordFact[] records) => Lookups.Found<TlsaRecordFact>(records);

    private static string Hex(byte[] data) => Convert.ToHexStringLower(data);

    [Fact]
    public void NoTlsaRecordsIsOk() =>
        Assert.Equal(CheckStatus.Ok, TlsaChecks.Evaluate(Lookups.None<TlsaRecordFact>(), _leafOnly, BackupName).Status);

    [Fact]
    public void ADaneEeRecordOfThePublicKeyOrTheWholeCertificateMatches()
    {
        Assert.Equal(CheckStatus.Ok, TlsaChecks.Evaluate(Records(new TlsaRecordFact(3, 1, 1, Hex(SHA256.HashData(_leafOnly.PublicKeys[0])))), _leafOnly, BackupName).Status);
        Assert.Equal(CheckStatus.Ok, TlsaChecks.Evaluate(Records(new TlsaRecordFact(3, 0, 2, Hex(SHA512.HashData(_leafOnly.Certificates[0])))), _leafOnly, BackupName).Status);
        Assert.Equal(CheckStatus.Ok, TlsaChecks.Evaluate(Records(new TlsaRecordFact(3, 1, 0, Hex(_leafOnly.PublicKeys[0]))), _leafOnly, BackupName).Status);
    }

    [Fact]
    public void ADaneTaRecordMatchesTheCaInTheChain()
    {
        var ta = new TlsaRecordFact(2, 0, 1, Hex(SHA256.HashData(_caDer)));
        Assert.Equal(CheckStatus.Ok, TlsaChecks.Evaluate(Records(ta), _withCa, BackupName).Status);
        Assert.Equal(CheckStatus.Failing, TlsaChecks.Evaluate(Records(ta), _leafOnly, BackupName).Status);
    }

    [Fact]
    public void RecordsThatMatchNothingAreFailingAndTheFixIsTheRecordThatWould()
    {
        SetupCheck c = TlsaChecks.Evaluate(Records(new TlsaRecordFact(3, 1, 1, new string('0', 64))), _leafOnly, BackupName);
        Assert.Equal(CheckStatus.Failing, c.Status);
        string expected = Hex(SHA256.HashData(_leafOnly.PublicKeys[0]));
        Assert.Contains($"_25._tcp.{BackupName}. IN TLSA 3 1 1 {expected}", c.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void OnlyPkixUsagesAreAWarning()
    {
        SetupCheck c = TlsaChecks.Evaluate(Records(new TlsaRecordFact(1, 1, 1, Hex(SHA256.HashData(_leafOnly.PublicKeys[0])))), _leafOnly, BackupName);
        Assert.Equal(CheckStatus.Warning, c.Status);
    }

    [Fact]
    public void RecordsWithoutACertificateAreFailing() =>
        Assert.Equal(CheckStatus.Failing, TlsaChecks.Evaluate(Records(new TlsaRecordFact(3, 1, 1, "00")), null, BackupName).Status);

    [Fact]
    public void AFailedLookupCouldNotBeChecked() =>
        Assert.Equal(CheckStatus.CouldNotCheck, TlsaChecks.Evaluate(Lookups.Failed<TlsaRecordFact>("TLSA: ServerFailure"), _leafOnly, BackupName).Status);
}
