using System.Text;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.HandOver;

/// <summary>
/// A crash between moving a refused message into the hold area and recording it in the
/// journal leaves a held file nobody knows of. The controller's next start records it as
/// held (with the envelope its trace headers still carry), so it is listed, released or
/// bounced like any other, never forgotten.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class UnrecordedHoldTests(LabFixture lab)
{
    [Fact]
    public async Task AHeldFileWithoutAJournalRowIsRecordedAtTheNextStart()
    {
        string name = $"1795800000.M1P1Q{Guid.NewGuid():N}.crash";
        string dir = Path.Combine(lab["HOLD_DIR"], "suempresa", "ventas@suempresa.test");
        string path = Path.Combine(dir, name);
        await lab.RunLabAsync("controller-kill");
        try
        {
            HoldAreaFiller.MakeDirectory(lab["HOLD_DIR"], "suempresa", "ventas@suempresa.test");
            await File.WriteAllBytesAsync(path, Encoding.ASCII.GetBytes(
                "Return-Path: <alguien@example.org>\r\nDelivered-To: ventas@suempresa.test\r\n" +
                "Received: from x by backup (Dovecot) with LMTP id abc\r\n\tfor <ventas@suempresa.test>; Fri, 27 Nov 2026 10:00:00 +0000\r\n" +
                "From: alguien@example.org\r\nSubject: held before a crash\r\n\r\nhello\r\n"));
            Assert.Empty(Rows(path));
        }
        finally
        {
            await lab.RunLabAsync("controller-start");
        }
        List<object?[]> rows = await Eventually.WaitAsync(() => Task.FromResult(Rows(path)), r => r.Count > 0, TimeSpan.FromSeconds(60), "the held file recorded");
        object?[] row = Assert.Single(rows);
        Assert.Equal("held", row[0]);
        Assert.Equal("alguien@example.org", row[1]);
        Assert.Equal("ventas@suempresa.test", row[2]);
        Assert.Contains("without a journal record", (string?)row[3], StringComparison.Ordinal);
        Assert.True(File.Exists(path), "the held file stays where it is");

        // A second start does not record it twice.
        await lab.RunLabAsync("controller-kill");
        await lab.RunLabAsync("controller-start");
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Single(Rows(path));

        // Leave the shared lab as it was: the test's message is no longer held.
        File.Delete(path);
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={lab["JOURNAL"]};Pooling=False;Default Timeout=30");
        connection.Open();
        using Microsoft.Data.Sqlite.SqliteCommand update = connection.CreateCommand();
        update.CommandText = "UPDATE holds SET state = 'bounced' WHERE path = $path";
        update.Parameters.AddWithValue("$path", path);
        Assert.Equal(1, update.ExecuteNonQuery());
    }

    private List<object?[]> Rows(string path) =>
        LabJournal.Query(lab["JOURNAL"], $"SELECT state, sender, recipient, reason FROM holds WHERE path = '{path}'");
}
