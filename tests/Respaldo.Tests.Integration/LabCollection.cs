namespace Respaldo.Tests.Lab;

/// <summary>
/// The integration tier's shared lab. Note: xunit finds collection definitions only in the
/// test assembly itself, so this one stays here while <see cref="LabFixture"/> lives in the
/// test lab library.
/// </summary>
[CollectionDefinition(Name)]
public sealed class LabCollection : ICollectionFixture<LabFixture>
{
    public const string Name = "lab";
}
