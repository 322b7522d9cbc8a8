namespace Respaldo.Storage;

/// <summary>The owner a file is given on its open descriptor (fchown), never by path.</summary>
public readonly record struct FileOwner(uint Uid, uint Gid);
