namespace Respaldo.Continuity;

/// <summary>One MX record: its preference and its target (lower case, no trailing dot; "" is the null MX of RFC 7505).</summary>
public sealed record MxHost(int Preference, string Exchange)
{
    public override string ToString() => $"MX {Preference} {(Exchange.Length == 0 ? "." : Exchange)}";
}
