using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Respaldo.Bench.Scale;

/// <summary>
/// The provider's tenants: N tenants named <c>tNNNN</c>, each with its own domain
/// <c>tNNNN.scale.test</c>, M mailboxes spread evenly over them (<c>bNNNNNN@</c>), and each its
/// own primary address — all of them the lab's one real primary Postfix, which is given every
/// domain and mailbox. The lab's own two tenants stay as they are.
/// </summary>
public sealed class ScaleTenants
{
    public const string DomainSuffix = ".scale.test";

    private ScaleTenants(IReadOnlyList<string> domains, IReadOnlyList<string> mailboxes)
    {
        Domains = domains;
        Mailboxes = mailboxes;
    }

    public IReadOnlyList<string> Domains { get; }

    /// <summary>Every scale mailbox, "local@domain", tenant by tenant.</summary>
    public IReadOnlyList<string> Mailboxes { get; }

    public static ScaleTenants Plan(int tenants, int mailboxes)
    {
        var domains = new List<string>(tenants);
        var addresses = new List<string>(mailboxes);
        for (int t = 0; t < tenants; t++)
        {
            string domain = string.Create(CultureInfo.InvariantCulture, $"t{t + 1:0000}{DomainSuffix}");
            domains.Add(domain);
            int share = (mailboxes / tenants) + (t < mailboxes % tenants ? 1 : 0);
            for (int m = 0; m < share; m++)
            {
                addresses.Add(string.Create(CultureInfo.InvariantCulture, $"b{addresses.Count + 1:000000}@{domain}"));
            }
        }
        return new ScaleTenants(domains, addresses);
    }

    /// <summary>Adds the tenants to the lab's respaldo.json ('lab config' wrote it; 'lab up' keeps it).</summary>
    public void AddTo(string configPath, string primary)
    {
        JsonNode root = JsonNode.Parse(File.ReadAllText(configPath)) ?? throw new InvalidOperationException($"{configPath} is empty");
        JsonArray tenants = root["tenants"]!.AsArray();
        int next = 0;
        foreach (string domain in Domains)
        {
            var mailboxes = new JsonArray();
            while (next < Mailboxes.Count && Mailboxes[next].EndsWith("@" + domain, StringComparison.Ordinal))
            {
                mailboxes.Add(new JsonObject { ["address"] = Mailboxes[next++] });
            }
            tenants.Add(new JsonObject
            {
                ["id"] = domain[..domain.IndexOf('.', StringComparison.Ordinal)],
                ["name"] = "Scale " + domain,
                ["domains"] = new JsonArray(domain),
                ["primary"] = new JsonObject { ["hosts"] = new JsonArray(primary), ["tls"] = "opportunistic" },
                ["mailboxes"] = mailboxes,
                // Note: as the lab's own tenant: the front door takes mail whether or not the
                // primary is up, so the policy figures are the same kind of answer at 0 and at W.
                ["acceptOnlyWhilePrimaryDown"] = false,
            });
        }
        File.WriteAllText(configPath, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>
    /// Gives the lab's primary every scale domain and mailbox: its domains regexp and its
    /// texthash of mailboxes (deploy/lab/templates/primary-main.cf), then a 'postfix reload'.
    /// </summary>
    public void AddToPrimary(string primaryConfig)
    {
        File.AppendAllText(Path.Combine(primaryConfig, "domains.regexp"), "/\\.scale\\.test$/ OK\n");
        // Note: the one primary stands for N companies' servers, each of which would see only its
        // own tenant's connections. Postfix's per-client limit (anvil: 50 connections from one
        // address) answered 421 "too many connections" to most tenants at once and the hand-over
        // measured that back-off; a process limit below the tenants' connections queues them.
        int processes = Math.Clamp((Domains.Count * 4) + 20, 100, 400);
        File.AppendAllText(Path.Combine(primaryConfig, "main.cf"), string.Create(CultureInfo.InvariantCulture,
            $"\n# bench-scale: {Domains.Count} tenants share this primary\nsmtpd_client_connection_count_limit = 0\n" +
            $"smtpd_client_connection_rate_limit = 0\nsmtpd_client_message_rate_limit = 0\ndefault_process_limit = {processes}\n"));
        var text = new StringBuilder(Mailboxes.Count * 48);
        foreach (string address in Mailboxes)
        {
            int at = address.IndexOf('@', StringComparison.Ordinal);
            text.Append(address).Append(' ').Append(address[(at + 1)..]).Append('/').Append(address[..at]).Append("/\n");
        }
        File.AppendAllText(Path.Combine(primaryConfig, "mailboxes"), text.ToString());
    }

    /// <summary>Changes the tenant map (one more domain for the last tenant, or one fewer), so a reload asks for a full scan.</summary>
    public static void ToggleExtraDomain(string configPath)
    {
        JsonNode root = JsonNode.Parse(File.ReadAllText(configPath))!;
        JsonArray domains = root["tenants"]!.AsArray()[^1]!["domains"]!.AsArray();
        const string extra = "rescan" + DomainSuffix;
        JsonNode? present = domains.FirstOrDefault(d => d!.GetValue<string>() == extra);
        if (present is null)
        {
            domains.Add(extra);
        }
        else
        {
            domains.Remove(present);
        }
        File.WriteAllText(configPath, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
