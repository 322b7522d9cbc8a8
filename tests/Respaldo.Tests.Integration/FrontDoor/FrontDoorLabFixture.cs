using System.Text.Json.Nodes;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.FrontDoor;

/// <summary>
/// A lab whose primary requires STARTTLS (smtpd_tls_security_level = encrypt) and advertises
/// SIZE 200000, with two tenants: <c>suempresa</c> (suempresa.test) learns its recipients from
/// the primary and from an admin's file, and accepts mail only while its primary is down;
/// <c>norte</c> (norte.suempresa.test) has a static list and accepts at any time. The
/// controller's pace is quick so that "down" and "up" are decided within seconds.
/// </summary>
public sealed class FrontDoorLabFixture() : LabFixture("frontdoor", new Dictionary<string, string>
{
    ["LAB_PRIMARY_TLS"] = "encrypt",
    ["LAB_PRIMARY_SIZE_LIMIT"] = PrimarySizeLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
})
{
    public const long PrimarySizeLimit = 200_000;

    public string RecipientsFile => Path.Combine(Directory, "recipients.txt");

    protected override void Configure(JsonObject config)
    {
        string primary = config["tenants"]![0]!["primary"]!["hosts"]![0]!.GetValue<string>();
        config["controller"] = new JsonObject
        {
            ["probeIntervalSeconds"] = 0.5,
            ["probeIntervalMaxSeconds"] = 2,
            ["idleProbeIntervalSeconds"] = 1,
            ["downAfterFailures"] = 2,
            ["upAfterSeconds"] = 2,
            ["calloutTimeoutSeconds"] = 5,
            ["commandTimeoutSeconds"] = 5,
            ["retryMaxSeconds"] = 5,
        };
        config["tenants"] = new JsonArray
        {
            new JsonObject
            {
                ["id"] = "suempresa",
                ["domains"] = new JsonArray("suempresa.test"),
                ["primary"] = new JsonObject { ["hosts"] = new JsonArray(primary), ["tls"] = "require" },
                ["mailboxes"] = new JsonArray(new JsonObject { ["address"] = "ventas@suempresa.test" }),
                ["recipients"] = new JsonObject { ["learn"] = true, ["file"] = RecipientsFile },
            },
            new JsonObject
            {
                ["id"] = "norte",
                ["domains"] = new JsonArray("norte.suempresa.test"),
                ["primary"] = new JsonObject { ["hosts"] = new JsonArray(primary), ["tls"] = "require" },
                ["mailboxes"] = new JsonArray(new JsonObject { ["address"] = "juan@norte.suempresa.test" }),
                ["acceptOnlyWhilePrimaryDown"] = false,
            },
        };
    }
}

[CollectionDefinition(Name)]
public sealed class FrontDoorLabCollection : ICollectionFixture<FrontDoorLabFixture>
{
    public const string Name = "frontdoor-lab";
}

/// <summary>
/// A lab with a tiny storage allocation (150 kB for all tenants) and a 20 kB quota on
/// ventas@suempresa.test, for the storage rules.
/// </summary>
public sealed class StorageLabFixture() : LabFixture("storage", new Dictionary<string, string>())
{
    public const long Allocation = 150_000;

    protected override void Configure(JsonObject config)
    {
        config["storage"] = new JsonObject { ["allocation"] = "150kB", ["minimumFree"] = "64MiB" };
        config["controller"] = new JsonObject { ["probeIntervalSeconds"] = 0.5, ["probeIntervalMaxSeconds"] = 2, ["retryMaxSeconds"] = 5 };
        foreach (JsonNode? mailbox in config["tenants"]![0]!["mailboxes"]!.AsArray())
        {
            if (mailbox!["address"]!.GetValue<string>() == "ventas@suempresa.test")
            {
                mailbox["quota"] = "20kB";
            }
        }
    }
}

[CollectionDefinition(Name)]
public sealed class StorageLabCollection : ICollectionFixture<StorageLabFixture>
{
    public const string Name = "storage-lab";
}

/// <summary>Small SMTP conversations the front-door tests repeat.</summary>
internal static class FrontDoorSmtp
{
    /// <summary>EHLO, MAIL FROM (with SIZE= when given), RCPT TO; the RCPT reply. Nothing is sent.</summary>
    public static async Task<SmtpReply> RcptAsync(LabFixture lab, string recipient, long? size = null, string sender = "sender@example.org")
    {
        await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port);
        Assert.Equal(250, (await client.CommandAsync("EHLO sender.example.org")).Code);
        SmtpReply mail = await client.CommandAsync($"MAIL FROM:<{sender}>{(size is { } n ? $" SIZE={n}" : "")}");
        if (mail.Code != 250)
        {
            return mail;
        }
        SmtpReply rcpt = await client.CommandAsync($"RCPT TO:<{recipient}>");
        await client.CommandAsync("RSET");
        return rcpt;
    }

    public static async Task<SmtpReply> SendAsync(LabFixture lab, string recipient, byte[] message, string sender = "sender@example.org")
    {
        await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port);
        Assert.Equal(250, (await client.CommandAsync("EHLO sender.example.org")).Code);
        return await client.SendAsync(sender, [recipient], message);
    }

    /// <summary>A message of about <paramref name="bytes"/> bytes, with a Subject to find it by.</summary>
    public static byte[] OfSize(string subject, int bytes, string to) =>
        System.Text.Encoding.ASCII.GetBytes(
            $"From: a@example.org\nTo: {to}\nSubject: {subject}\nMessage-ID: <{Guid.NewGuid():N}@example.org>\n\n" +
            string.Concat(Enumerable.Repeat(new string('x', 99) + "\n", Math.Max(1, bytes / 100))));

    public static async Task<string?> StoredAsync(Func<IEnumerable<string>> files, string subject, TimeSpan timeout) =>
        await Eventually.WaitAsync(
            () => Task.FromResult(files().Select(f => { try { return File.ReadAllText(f); } catch (FileNotFoundException) { return null; } })
                .FirstOrDefault(t => t is not null && t.Contains($"Subject: {subject}\n", StringComparison.Ordinal))),
            t => t is not null, timeout, $"message {subject} stored");
}
