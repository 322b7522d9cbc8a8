namespace Respaldo.Continuity;

/// <summary>The admin's recipient file (<c>recipients.file</c>): whether it could be read, how many addresses it lists, and the error if not.</summary>
public sealed record RecipientFileFacts(string Path, bool Readable, int Addresses, string Error);
