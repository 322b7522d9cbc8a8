using Microsoft.Data.Sqlite;

namespace Respaldo.Tests.Journal;

/// <summary>
/// Where a journal table's pages are, for the tests that damage them on purpose (the unit
/// tier's start-up check; the integration tier, which compiles this file in, for respaldoctl's
/// check and recover).
/// </summary>
public static class JournalPages
{
    /// <summary>
    /// The page number of the table's nth leaf: the table's root is an interior b-tree page
    /// (type 5) whose cells each start with a child's page number (https://sqlite.org/fileformat2.html#b_tree_pages).
    /// </summary>
    public static long LeafPage(string path, string table, int nth, int pageSize)
    {
        long root;
        using (var c = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            c.Open();
            using SqliteCommand q = c.CreateCommand();
            q.CommandText = "SELECT rootpage FROM sqlite_schema WHERE name = $t";
            q.Parameters.AddWithValue("$t", table);
            root = (long)q.ExecuteScalar()!;
        }
        byte[] file = File.ReadAllBytes(path);
        int start = (int)((root - 1) * pageSize);
        int header = start + (root == 1 ? 100 : 0);
        Assert.Equal(0x05, file[header]);
        Assert.True(((file[header + 3] << 8) | file[header + 4]) > nth, "the table has fewer leaves than the test damages");
        int pointer = header + 12 + (2 * nth);
        int cell = start + ((file[pointer] << 8) | file[pointer + 1]);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(cell, 4));
    }
}
