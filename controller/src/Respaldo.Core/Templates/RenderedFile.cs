namespace Respaldo.Templates;

/// <summary>One output of <see cref="ConfigRenderer"/>: where it goes (relative to the output directory) and what it holds.</summary>
public sealed record RenderedFile(string RelativePath, string Content, UnixFileMode Mode);

/// <summary>What <see cref="ConfigRenderer.Write"/> did: files rewritten and files already up to date.</summary>
public sealed record RenderResult(IReadOnlyList<string> Changed, IReadOnlyList<string> Unchanged)
{
    public bool PostfixChanged => Changed.Any(f => f.StartsWith("postfix/", StringComparison.Ordinal));
    public bool DovecotChanged => Changed.Any(f => f.StartsWith("dovecot/", StringComparison.Ordinal));
    public bool RspamdChanged => Changed.Any(f => f.StartsWith("rspamd/", StringComparison.Ordinal));
}
