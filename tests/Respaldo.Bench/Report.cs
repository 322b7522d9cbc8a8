using System.Text;

namespace Respaldo.Bench;

/// <summary>
/// The table (one row per measurement, the reference measured in the same run beside it, the
/// target and whether it was met) and the last line with the ratios. A benchmark reports; it
/// does not fail on a missed target.
/// </summary>
public sealed class Report(string metWord = "met", string missedWord = "MISSED")
{
    private readonly List<(string What, string Value, string Reference, string Target, string Verdict)> _rows = [];
    private readonly HashSet<int> _notes = [];

    public string LastLine { get; set; } = "bench: no result";

    public void Row(string what, string value, string reference = "", string target = "", bool? met = null) =>
        _rows.Add((what, value, reference, target, met switch { true => metWord, false => missedWord, null => "" }));

    /// <summary>A line of its own between rows (a heading, or blank).</summary>
    public void Note(string text)
    {
        _notes.Add(_rows.Count);
        _rows.Add((text, "", "", "", ""));
    }

    public override string ToString()
    {
        string[] head = ["measurement", "Respaldo", "reference (same run)", "target", ""];
        int[] widths = new int[5];
        foreach (string[] cells in _rows.Where((_, i) => !_notes.Contains(i)).Select(r => new[] { r.What, r.Value, r.Reference, r.Target, r.Verdict }).Prepend(head))
        {
            for (int i = 0; i < 5; i++)
            {
                widths[i] = Math.Max(widths[i], cells[i].Length);
            }
        }
        var text = new StringBuilder();
        void Line(string[] cells) =>
            text.AppendLine(string.Join("  ", cells.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
        Line(head);
        text.AppendLine(new string('-', widths.Sum() + 8));
        for (int i = 0; i < _rows.Count; i++)
        {
            (string what, string value, string reference, string target, string verdict) = _rows[i];
            if (_notes.Contains(i))
            {
                text.AppendLine(what);
                continue;
            }
            Line([what, value, reference, target, verdict]);
        }
        return text.ToString();
    }
}
