namespace Respaldo.Continuity;

/// <summary>Makes <see cref="Lookup{T}"/> answers.</summary>
public static class Lookups
{
    /// <summary>Records found; an empty list is no records (NODATA).</summary>
    public static Lookup<T> Found<T>(IReadOnlyList<T> records) => records.Count > 0 ? new(LookupOutcome.Found, records, "") : None<T>();

    public static Lookup<T> None<T>(string what = "") => new(LookupOutcome.None, [], what);

    public static Lookup<T> Failed<T>(string error) => new(LookupOutcome.Failed, [], error);
}
