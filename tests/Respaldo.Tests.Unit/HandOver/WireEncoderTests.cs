using System.Text;
using Respaldo.HandOver;

namespace Respaldo.Tests.HandOver;

public sealed class WireEncoderTests
{
    private static string Encode(string stored, int chunk = int.MaxValue)
    {
        byte[] input = Encoding.Latin1.GetBytes(stored);
        var encoder = new WireEncoder();
        var output = new MemoryStream();
        for (int i = 0; i < input.Length; i += chunk)
        {
            int n = Math.Min(chunk, input.Length - i);
            var buffer = new byte[WireEncoder.MaxOutput(n)];
            output.Write(buffer, 0, encoder.Encode(input.AsSpan(i, n), buffer));
        }
        var end = new byte[8];
        output.Write(end, 0, encoder.Finish(end));
        return Encoding.Latin1.GetString(output.ToArray());
    }

    [Theory]
    [InlineData("a\nb\n", "a\r\nb\r\n.\r\n")]
    [InlineData("no final newline", "no final newline\r\n.\r\n")]
    [InlineData(".\n..\n.x\nx.\n", "..\r\n...\r\n..x\r\nx.\r\n.\r\n")]
    [InlineData("", ".\r\n")]
    [InlineData("\n\n", "\r\n\r\n.\r\n")]
    public void AppliesOnlyTheSmtpTransparencyRules(string stored, string wire) => Assert.Equal(wire, Encode(stored));

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void GivesTheSameBytesWhateverTheChunking(int chunk)
    {
        const string stored = ".start\nmiddle\n.\n..two\ntail without newline";
        Assert.Equal(Encode(stored), Encode(stored, chunk));
    }

    /// <summary>BDAT's form: the same line ends, no stuffed dot, no final dot; a last line without LF still gets its CRLF.</summary>
    [Theory]
    [InlineData("a\nb\n", "a\r\nb\r\n")]
    [InlineData("no final newline", "no final newline\r\n")]
    [InlineData(".\n..\n.x\nx.\n", ".\r\n..\r\n.x\r\nx.\r\n")]
    [InlineData("", "")]
    [InlineData("\n\n", "\r\n\r\n")]
    [InlineData(".", ".\r\n")]
    public void WithoutDotStuffingGivesTheContentDataDeliversAfterUnstuffing(string stored, string content)
    {
        foreach (int chunk in new[] { 1, 2, int.MaxValue })
        {
            byte[] input = Encoding.Latin1.GetBytes(stored);
            var encoder = new WireEncoder(dotStuffing: false);
            var output = new MemoryStream();
            for (int i = 0; i < input.Length; i += chunk)
            {
                int n = Math.Min(chunk, input.Length - i);
                var buffer = new byte[WireEncoder.MaxOutput(n)];
                output.Write(buffer, 0, encoder.Encode(input.AsSpan(i, n), buffer));
            }
            var end = new byte[2];
            output.Write(end, 0, encoder.FinishContent(end));
            Assert.Equal(content, Encoding.Latin1.GetString(output.ToArray()));
            // DATA's form of the same message is this content, each line starting with '.' given one more, and the lone dot.
            string stuffed = string.Concat(content.Split("\r\n").SkipLast(1).Select(l => (l.StartsWith('.') ? "." : "") + l + "\r\n")) + ".\r\n";
            Assert.Equal(stuffed, Encode(stored, chunk));
        }
    }

    [Fact]
    public void KeepsEightBitAndNulBytes()
    {
        string stored = "ñ\u00ff\0x\n";
        Assert.Equal("ñ\u00ff\0x\r\n.\r\n", Encode(stored));
    }

    /// <summary>
    /// SMTP smuggling: a stored CR would go out as a bare CR (before, "a\rb" went out as is and
    /// "x\r\n" as "x\r\r\n"), and a primary that ends the data at &lt;CR&gt;.&lt;CR&gt; would take
    /// what follows as a second message. The encoder refuses instead of sending or removing it.
    /// </summary>
    [Theory]
    [InlineData("bare\rcr\n")]
    [InlineData("cr before lf\r\n")]
    [InlineData("a\n\r.\rMAIL FROM:<ceo@suempresa.test>\n")]
    [InlineData("\r")]
    public void NeverSendsABareCrItRefusesTheChunk(string stored)
    {
        var encoder = new WireEncoder();
        byte[] input = Encoding.Latin1.GetBytes(stored);
        var output = new byte[WireEncoder.MaxOutput(input.Length)];
        Assert.Throws<BareCarriageReturnException>(() => encoder.Encode(input, output));
    }

    [Theory]
    [InlineData("a\nb")]
    [InlineData("\n\n.\n\n")]
    [InlineData("x\n.\ny\n\n.\n")]
    public void EveryCrAndLfOnTheWireIsACrlf(string stored)
    {
        string wire = Encode(stored, 2);
        for (int i = 0; i < wire.Length; i++)
        {
            if (wire[i] == '\r')
            {
                Assert.Equal('\n', wire[i + 1]);
            }
            if (wire[i] == '\n')
            {
                Assert.Equal('\r', wire[i - 1]);
            }
        }
    }
}
