using System.Text.Json.Nodes;

namespace Respaldo.Tests.Lab;

/// <summary>
/// The lab for fire drills, with the whole border (rspamd as the milter, LAB_FILTER=on): tenant <c>suempresa</c> takes mail only while its primary is down
/// (the default the lab turns off), with its drill address <c>info@suempresa.test</c> (a mailbox
/// the lab's primary has) and a short drill timeout; no schedule (LabConfig.KeepTestsInCharge:
/// the tests start every drill). The accept-only rule believes a primary back at once
/// (<c>controller.upAfterSeconds</c> 0), so each test starts from a primary the border sees up.
/// <see cref="GreylistAsync"/> makes the lab's primary defer the
/// backup like a greylisting server.
/// </summary>
public sealed class DrillLabFixture() : LabFixture("drill", new Dictionary<string, string> { ["LAB_FILTER"] = "on" })
{
    public const string Address = "info@suempresa.test";

    protected override void Configure(JsonObject config)
    {
        JsonObject tenant = config["tenants"]![0]!.AsObject();
        tenant.Remove("acceptOnlyWhilePrimaryDown");
        tenant["drill"] = new JsonObject { ["address"] = Address, ["timeoutSeconds"] = 60 };
        config["controller"] = new JsonObject { ["upAfterSeconds"] = 0 };
    }

    /// <summary>
    /// Turns greylisting on (or off) at the lab's primary: a Postfix access table answering
    /// "450 4.7.1 greylisted" to every client at RCPT, and 'postfix reload'. The probe (EHLO, no
    /// recipient in this lab) still finds the primary up, as with a real greylisting primary.
    /// </summary>
    public async Task GreylistAsync(bool on)
    {
        string dir = this["PRIMARY_POSTFIX"];
        if (on)
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "greylist.cidr"), "0.0.0.0/0 450 4.7.1 greylisted, please try again later\n").ConfigureAwait(false);
            await RunAsync("postconf", "-c", dir, "-e", $"smtpd_recipient_restrictions = check_client_access cidr:{dir}/greylist.cidr").ConfigureAwait(false);
        }
        else
        {
            await RunAsync("postconf", "-c", dir, "-X", "smtpd_recipient_restrictions").ConfigureAwait(false);
        }
        await RunAsync("postfix", "-c", dir, "reload").ConfigureAwait(false);
    }

    private static async Task RunAsync(string program, params string[] args)
    {
        ProcessRunner.Result r = await ProcessRunner.RunAsync(program, args).ConfigureAwait(false);
        if (r.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed: {r}");
        }
    }
}

[CollectionDefinition(Name)]
public sealed class DrillLabCollection : ICollectionFixture<DrillLabFixture>
{
    public const string Name = "drill lab";
}
