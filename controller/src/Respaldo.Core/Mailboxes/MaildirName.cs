using System.Globalization;

namespace Respaldo.Mailboxes;

/// <summary>
/// Reads what a maildir file name says (Dovecot writes <c>secs.M usec P pid.host,S=size,W=size:2,flags</c>).
/// Nothing here is trusted for correctness: size and time fall back to the file's own stat.
/// </summary>
public static class MaildirName
{
    /// <summary>The name without the ":2,flags" info part: the message's identity in its maildir.</summary>
    public static string BaseName(string fileName)
    {
        int colon = fileName.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? fileName : fileName[..colon];
    }

    /// <summary>The ",S=" size Dovecot records (the stored size, LF line ends), if present.</summary>
    public static long? Size(string fileName)
    {
        string b = BaseName(fileName);
        int s = b.IndexOf(",S=", StringComparison.Ordinal);
        if (s < 0)
        {
            return null;
        }
        int end = b.IndexOf(',', s + 3);
        string digits = end < 0 ? b[(s + 3)..] : b[(s + 3)..end];
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long size) ? size : null;
    }

    /// <summary>The delivery time in the name (seconds and, after ".M", microseconds), if present.</summary>
    public static DateTimeOffset? Arrived(string fileName)
    {
        int dot = fileName.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || !long.TryParse(fileName.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out long seconds))
        {
            return null;
        }
        DateTimeOffset time = DateTimeOffset.FromUnixTimeSeconds(seconds);
        if (fileName.Length > dot + 1 && fileName[dot + 1] == 'M')
        {
            int i = dot + 2;
            int start = i;
            while (i < fileName.Length && char.IsAsciiDigit(fileName[i]))
            {
                i++;
            }
            if (i > start && long.TryParse(fileName.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture, out long micros) && micros < 1_000_000)
            {
                time = time.AddTicks(micros * 10);
            }
        }
        return time;
    }
}
