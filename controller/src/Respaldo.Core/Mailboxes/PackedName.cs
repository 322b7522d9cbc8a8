using System.Globalization;
using System.Text;

namespace Respaldo.Mailboxes;

/// <summary>
/// A maildir base name as the index keeps it, in as few bytes as it exactly comes back from.
/// A name of Dovecot's form, <c>secs.MusecPpid.host[,S=size[,W=vsize]]</c>, is kept as its five
/// numbers and the host (one string shared by every name of that host): 32 bytes inside its
/// entry instead of a reference and an array of about 80. Any other ASCII name is kept as its
/// bytes, anything else as its string. A name is packed only when it formats back to exactly
/// the same characters (no leading zero, no sign), so every name comes back as it was given.
/// </summary>
internal readonly struct PackedName
{
    /// <summary>The longest a packed name's numbers and separators make: five 10-digit numbers and ".M", "P", ".", ",S=", ",W=".</summary>
    private const int NumbersMax = 5 * 10 + 2 + 1 + 1 + 3 + 3;

    private const uint Absent = uint.MaxValue;

    private const int StackChars = 256;

    // Note: a host string (Dovecot's form), a byte[] (other ASCII names) or a string (any other name).
    private readonly object _value;
    private readonly uint _secs;
    private readonly uint _usec;
    private readonly uint _pid;
    private readonly uint _size;
    private readonly uint _virtualSize;
    private readonly bool _packed;

    private PackedName(object value) => _value = value;

    private PackedName(string host, uint secs, uint usec, uint pid, uint size, uint virtualSize)
    {
        _value = host;
        _secs = secs;
        _usec = usec;
        _pid = pid;
        _size = size;
        _virtualSize = virtualSize;
        _packed = true;
    }

    /// <summary>
    /// Packs <paramref name="name"/>; <paramref name="shareHost"/> gives the shared copy of a host
    /// (a bounded table's, so odd names cannot make it grow without end).
    /// </summary>
    public static PackedName Of(string name, Func<string, string> shareHost)
    {
        if (TryParse(name, out uint secs, out uint usec, out uint pid, out Range host, out uint size, out uint virtualSize))
        {
            // Note: checked with the host as it is, shared only once the name is known to pack
            // (so names that do not never take a place in the bounded table).
            string own = name[host];
            var packed = new PackedName(own, secs, usec, pid, size, virtualSize);
            Span<char> buffer = stackalloc char[StackChars];
            if (packed.Length <= StackChars && packed.Chars(buffer).SequenceEqual(name))
            {
                return new PackedName(shareHost(own), secs, usec, pid, size, virtualSize);
            }
        }
        return new PackedName(Ascii.IsValid(name) ? Encoding.ASCII.GetBytes(name) : name);
    }

    /// <summary>Whether the name is kept as numbers and a shared host (Dovecot's form).</summary>
    public bool IsPacked => _packed;

    /// <summary>How many characters the name has (a default value is the empty name).</summary>
    public int Length => _value switch
    {
        null => 0,
        string s when !_packed => s.Length,
        byte[] b => b.Length,
        _ => FormattedLength(),
    };

    public override string ToString()
    {
        if (!_packed)
        {
            return _value switch
            {
                null => "",
                string s => s,
                _ => Encoding.ASCII.GetString((byte[])_value),
            };
        }
        Span<char> buffer = stackalloc char[StackChars];
        return Length <= StackChars ? new string(Chars(buffer)) : new string(Chars(new char[Length]));
    }

    public bool Is(ReadOnlySpan<char> name)
    {
        if (!_packed)
        {
            return _value switch
            {
                null => name.IsEmpty,
                string s => name.SequenceEqual(s),
                _ => name.Length == ((byte[])_value).Length && Ascii.Equals((byte[])_value, name),
            };
        }
        if (name.Length != Length)
        {
            return false;
        }
        Span<char> buffer = name.Length <= StackChars ? stackalloc char[StackChars] : new char[name.Length];
        return Chars(buffer).SequenceEqual(name);
    }

    public bool In(HashSet<string>.AlternateLookup<ReadOnlySpan<char>> names)
    {
        if (!_packed && _value is string s)
        {
            return names.Contains(s);
        }
        Span<char> buffer = Length <= StackChars ? stackalloc char[StackChars] : new char[Length];
        return names.Contains(Chars(buffer));
    }

    /// <summary>The same hash as the name's characters have (lookups come with a span of a key).</summary>
    public int Hash()
    {
        if (!_packed && _value is string s)
        {
            return string.GetHashCode(s.AsSpan());
        }
        Span<char> buffer = Length <= StackChars ? stackalloc char[StackChars] : new char[Length];
        return string.GetHashCode(Chars(buffer));
    }

    /// <summary>Ordinal order of the names' characters.</summary>
    public int CompareTo(in PackedName other)
    {
        if (!_packed && !other._packed && _value is byte[] a && other._value is byte[] b)
        {
            // Note: ASCII bytes sort as their characters do.
            return a.AsSpan().SequenceCompareTo(b);
        }
        Span<char> mine = Length <= StackChars ? stackalloc char[StackChars] : new char[Length];
        Span<char> theirs = other.Length <= StackChars ? stackalloc char[StackChars] : new char[other.Length];
        return Chars(mine).SequenceCompareTo(other.Chars(theirs));
    }

    /// <summary>The name's characters: the string's own, or written into <paramref name="buffer"/> (at least <see cref="Length"/> long).</summary>
    private ReadOnlySpan<char> Chars(Span<char> buffer)
    {
        if (!_packed)
        {
            if (_value is null)
            {
                return [];
            }
            if (_value is string s)
            {
                return s;
            }
            byte[] bytes = (byte[])_value;
            Ascii.ToUtf16(bytes, buffer, out int written);
            return buffer[..written];
        }
        var host = (string)_value;
        int n = 0;
        Number(_secs, buffer, ref n);
        buffer[n++] = '.';
        buffer[n++] = 'M';
        Number(_usec, buffer, ref n);
        buffer[n++] = 'P';
        Number(_pid, buffer, ref n);
        buffer[n++] = '.';
        host.CopyTo(buffer[n..]);
        n += host.Length;
        if (_size != Absent)
        {
            ",S=".CopyTo(buffer[n..]);
            n += 3;
            Number(_size, buffer, ref n);
            if (_virtualSize != Absent)
            {
                ",W=".CopyTo(buffer[n..]);
                n += 3;
                Number(_virtualSize, buffer, ref n);
            }
        }
        return buffer[..n];
    }

    private int FormattedLength()
    {
        int n = Digits(_secs) + 2 + Digits(_usec) + 1 + Digits(_pid) + 1 + ((string)_value).Length;
        if (_size != Absent)
        {
            n += 3 + Digits(_size);
            if (_virtualSize != Absent)
            {
                n += 3 + Digits(_virtualSize);
            }
        }
        return n;
    }

    private static int Digits(uint value)
    {
        int digits = 1;
        while (value >= 10)
        {
            value /= 10;
            digits++;
        }
        return digits;
    }

    private static void Number(uint value, Span<char> buffer, ref int at)
    {
        value.TryFormat(buffer[at..], out int written, default, CultureInfo.InvariantCulture);
        at += written;
    }

    /// <summary>Reads Dovecot's form; whether the numbers format back the same is the caller's check.</summary>
    private static bool TryParse(string name, out uint secs, out uint usec, out uint pid, out Range host, out uint size, out uint virtualSize)
    {
        usec = pid = 0;
        size = virtualSize = Absent;
        host = default;
        ReadOnlySpan<char> s = name;
        int dot = s.IndexOf('.');
        if (dot <= 0 || !uint.TryParse(s[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out secs)
            || s.Length < dot + 2 || s[dot + 1] != 'M')
        {
            secs = 0;
            return false;
        }
        int at = dot + 2;
        int p = s[at..].IndexOf('P');
        if (p <= 0 || !uint.TryParse(s.Slice(at, p), NumberStyles.None, CultureInfo.InvariantCulture, out usec))
        {
            return false;
        }
        at += p + 1;
        int hostDot = s[at..].IndexOf('.');
        if (hostDot <= 0 || !uint.TryParse(s.Slice(at, hostDot), NumberStyles.None, CultureInfo.InvariantCulture, out pid))
        {
            return false;
        }
        at += hostDot + 1;
        int comma = s[at..].IndexOf(',');
        int hostEnd = comma < 0 ? s.Length : at + comma;
        if (hostEnd == at)
        {
            return false;
        }
        host = at..hostEnd;
        ReadOnlySpan<char> rest = s[hostEnd..];
        if (rest.IsEmpty)
        {
            return true;
        }
        if (!rest.StartsWith(",S=", StringComparison.Ordinal))
        {
            return false;
        }
        rest = rest[3..];
        int w = rest.IndexOf(",W=", StringComparison.Ordinal);
        if (!uint.TryParse(w < 0 ? rest : rest[..w], NumberStyles.None, CultureInfo.InvariantCulture, out size) || size == Absent)
        {
            return false;
        }
        return w < 0 || (uint.TryParse(rest[(w + 3)..], NumberStyles.None, CultureInfo.InvariantCulture, out virtualSize) && virtualSize != Absent);
    }
}
