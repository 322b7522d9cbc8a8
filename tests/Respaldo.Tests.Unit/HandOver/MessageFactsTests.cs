using System.Text;
using Respaldo.HandOver;

namespace Respaldo.Tests.HandOver;

public sealed class MessageFactsTests
{
    private static MessageFacts Facts(byte[] bytes, int chunk = int.MaxValue)
    {
        var b = new MessageFacts.Builder();
        for (int i = 0; i < bytes.Length; i += chunk)
        {
            b.Add(bytes.AsSpan(i, Math.Min(chunk, bytes.Length - i)));
        }
        return b.Build();
    }

    [Theory]
    [InlineData("a\nb\n", 6)]
    [InlineData("a\nb", 6)]
    [InlineData("", 0)]
    [InlineData(".\n", 3)]
    public void CountsTheWireSizeWithCrlfBeforeDotStuffing(string stored, long wire) =>
        Assert.Equal(wire, Facts(Encoding.ASCII.GetBytes(stored)).WireSize);

    [Fact]
    public void SeesEightBitBytesAnywhere()
    {
        Assert.False(Facts("plain ascii\n"u8.ToArray()).EightBit);
        Assert.True(Facts(Encoding.UTF8.GetBytes("x\n".PadRight(70000, 'a') + "é\n"), 4096).EightBit);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(1000)]
    public void FindsTheLongestLineAcrossChunks(int chunk)
    {
        byte[] bytes = Encoding.ASCII.GetBytes("short\n" + new string('x', 999) + "\nend");
        MessageFacts f = Facts(bytes, chunk);
        Assert.Equal(999, f.LongestLine);
        Assert.Equal(bytes.Length + 2 + 2, f.WireSize);
    }
}
