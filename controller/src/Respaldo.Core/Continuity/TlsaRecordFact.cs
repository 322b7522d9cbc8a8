namespace Respaldo.Continuity;

/// <summary>One TLSA record (RFC 6698): certificate usage, selector, matching type, and the association data in lower-case hex.</summary>
public sealed record TlsaRecordFact(int Usage, int Selector, int Matching, string Data)
{
    public override string ToString() => $"TLSA {Usage} {Selector} {Matching} {(Data.Length > 16 ? Data[..16] + "…" : Data)}";
}
