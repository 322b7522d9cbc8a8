using Respaldo.Mailboxes;

namespace Respaldo.Tests.Mailboxes;

public sealed class PackedNameTests
{
    private static readonly Func<string, string> Own = host => host;

    [Theory]
    [InlineData("1795805199.M930396P6829.vm,S=719,W=739", true)]
    [InlineData("1795805199.M930396P6829.backup.example.net,S=719", true)]
    [InlineData("1795805199.M1P1.host", true)]
    [InlineData("0.M0P0.h,S=0,W=0", true)]
    [InlineData("4294967294.M4294967294P4294967294.h,S=4294967294,W=4294967294", true)]
    // Note: what does not format back the same is kept as it is, never normalized.
    [InlineData("1795805199.M0930396P6829.vm,S=719", false)]
    [InlineData("01795805199.M1P1.vm", false)]
    [InlineData("1795805199.M1P1.vm,S=0719", false)]
    [InlineData("4294967296.M1P1.vm", false)]
    [InlineData("1795805199.M1P1.vm,S=4294967295", false)]
    [InlineData("1795805199.M1P1.vm,W=5", false)]
    [InlineData("1795805199.M1P1.vm,S=5,W=", false)]
    [InlineData("1795805199.M1P1.vm,S=5,X=6", false)]
    [InlineData("1795805199.M1P1.,S=5", false)]
    [InlineData("1795805199.M1P1Q9.crash", false)]
    [InlineData("1795805199.M1P1V03I5.vm,S=5", false)]
    [InlineData("1795805199.M+1P1.vm", false)]
    [InlineData("1795805199.P1.vm", false)]
    [InlineData("1795805199", false)]
    [InlineData("", false)]
    [InlineData("ñandú.M1P1.vm", false)]
    [InlineData("1795805199.M1P1.ñandú,S=5", true)]
    [InlineData("stray file", false)]
    public void ANameComesBackExactlyAndIsPackedOnlyInDovecotsForm(string name, bool packed)
    {
        PackedName p = PackedName.Of(name, Own);

        Assert.Equal(packed, p.IsPacked);
        Assert.Equal(name, p.ToString());
        Assert.Equal(name.Length, p.Length);
        Assert.True(p.Is(name));
        Assert.False(p.Is(name + "x"));
        Assert.Equal(string.GetHashCode(name.AsSpan()), p.Hash());
        var set = new HashSet<string>(StringComparer.Ordinal) { name };
        Assert.True(p.In(set.GetAlternateLookup<ReadOnlySpan<char>>()));
        Assert.False(p.In(new HashSet<string>(StringComparer.Ordinal) { name + "x" }.GetAlternateLookup<ReadOnlySpan<char>>()));
    }

    [Fact]
    public void NamesOrderAsTheirCharactersDoWhicheverWayTheyAreKept()
    {
        string[] names =
        [
            "1795805199.M930396P6829.vm,S=719,W=739", "1795805199.M930396P6829.vm,S=72", "1795805199.M93P6829.vm",
            "1795805199.M1P1Q9.crash", "1795805200.M1P1.a", "179580520.M1P1.a", "stray", "ñandú", "1795805199.M0930396P6829.vm",
        ];
        foreach (string a in names)
        {
            foreach (string b in names)
            {
                Assert.Equal(Math.Sign(string.CompareOrdinal(a, b)), Math.Sign(PackedName.Of(a, Own).CompareTo(PackedName.Of(b, Own))));
            }
        }
    }

    [Fact]
    public void LongNamesComeBackExactlyWhicheverWayTheyAreKept()
    {
        // Note: over the 256 characters formatted on the stack: bytes, a Dovecot name too long
        // to pack (kept as bytes), a non-ASCII string.
        string[] names = [new string('a', 300), $"1795805199.M1P1.{new string('h', 250)},S=5,W=6", new string('ñ', 300)];
        foreach (string name in names)
        {
            PackedName p = PackedName.Of(name, Own);
            Assert.False(p.IsPacked);
            Assert.Equal(name, p.ToString());
            Assert.True(p.Is(name));
            Assert.Equal(string.GetHashCode(name.AsSpan()), p.Hash());
            Assert.True(p.In(new HashSet<string>(StringComparer.Ordinal) { name }.GetAlternateLookup<ReadOnlySpan<char>>()));
            Assert.Equal(0, p.CompareTo(PackedName.Of(name, Own)));
            const string Short = "1795805199.M1P1.vm";
            Assert.Equal(Math.Sign(string.CompareOrdinal(name, Short)), Math.Sign(p.CompareTo(PackedName.Of(Short, Own))));
            Assert.Equal(Math.Sign(string.CompareOrdinal(Short, name)), Math.Sign(PackedName.Of(Short, Own).CompareTo(p)));
        }
    }

    [Fact]
    public void ADefaultValueIsTheEmptyName()
    {
        PackedName empty = default;
        Assert.Equal(0, empty.Length);
        Assert.Equal("", empty.ToString());
        Assert.True(empty.Is(""));
        Assert.Equal(string.GetHashCode(ReadOnlySpan<char>.Empty), empty.Hash());
    }

    [Fact]
    public void OnlyTheHostOfANameThatPacksIsShared()
    {
        var shared = new List<string>();
        string Share(string host)
        {
            shared.Add(host);
            return host;
        }

        PackedName.Of("1795805199.M0930396P6829.odd,S=719", Share);
        PackedName.Of("1795805199.M930396P6829.vm,S=719", Share);

        Assert.Equal(["vm"], shared);
    }

    [Fact]
    public void TheHostIsTheSharedCopy()
    {
        string shared = new('h', 3);
        PackedName p = PackedName.Of("1795805199.M1P1.hhh,S=5", host => host == shared ? shared : host);
        Assert.True(p.IsPacked);
        Assert.Equal("1795805199.M1P1.hhh,S=5", p.ToString());
    }
}
