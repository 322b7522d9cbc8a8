namespace Respaldo.Webmail;

/// <summary>
/// One page of a list of <see cref="Total"/> items, newest first: page 1 holds the newest
/// <see cref="Size"/>. A page number past the end shows the last page; below 1, the first.
/// </summary>
public readonly record struct PageWindow(int Page, int Size, int Total)
{
    public int Pages => Total == 0 ? 1 : ((Total - 1) / Size) + 1;

    /// <summary>Index of the first item of this page in the newest-first order.</summary>
    public int Skip => (Page - 1) * Size;

    public int Count => Math.Max(0, Math.Min(Size, Total - Skip));

    public bool HasPrevious => Page > 1;

    public bool HasNext => Page < Pages;

    public static PageWindow For(int? page, int size, int total)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(total);
        int pages = total == 0 ? 1 : ((total - 1) / size) + 1;
        int p = Math.Clamp(page ?? 1, 1, pages);
        return new PageWindow(p, size, total);
    }

    /// <summary>The items of this page from a list in oldest-first order (IMAP UIDs ascend with arrival).</summary>
    public IReadOnlyList<T> Slice<T>(IReadOnlyList<T> oldestFirst)
    {
        var page = new List<T>(Count);
        for (int i = 0; i < Count; i++)
        {
            page.Add(oldestFirst[oldestFirst.Count - 1 - Skip - i]);
        }
        return page;
    }
}
