namespace Respaldo.Configuration;

// tenants[]: each tenant (id, domains, mailboxes, alerts, storage share) and the checks across tenants.
public static partial class ConfigurationValidator
{
    private static Tenant? ValidateTenant(TenantSection? t, ConfigPath at, StorageSettings storage)
    {
        if (t is null)
        {
            at.Error("must be an object");
            return null;
        }
        // Note: a tenant with any error is left out of the settings (but still checked whole).
        int errorsBefore = at.ErrorCount;

        string id = t.Id?.Trim() ?? "";
        if (id.Length == 0)
        {
            at.At("id").Error("required: a short name of lower-case letters, digits and '-' (\"suempresa\")");
        }
        else if (!TenantId().IsMatch(id))
        {
            at.At("id").Error($"\"{t.Id}\" may hold only lower-case letters, digits and '-', starting with a letter or digit");
        }
        string name = string.IsNullOrWhiteSpace(t.Name) ? id : t.Name.Trim();

        var domains = new List<DomainPattern>();
        if (t.Domains is null || t.Domains.Count == 0)
        {
            at.At("domains").Error("at least one domain is required (\"example.com\", \"*.example.com\")");
        }
        else
        {
            for (int i = 0; i < t.Domains.Count; i++)
            {
                if (!DomainPattern.TryParse(t.Domains[i], out DomainPattern d, out string message))
                {
                    at.At("domains").At(i).Error(message);
                }
                else if (domains.Contains(d))
                {
                    at.At("domains").At(i).Error($"\"{d}\" is listed twice");
                }
                else
                {
                    domains.Add(d);
                }
            }
        }
        bool InDomains(string address) => domains.Any(d => d.Matches(MailAddress.DomainOf(address)));

        PrimaryServer primary = ValidatePrimary(t.Primary, at.At("primary"), InDomains);

        var mailboxes = new List<Mailbox>();
        var listed = new HashSet<string>(StringComparer.Ordinal);
        if (t.Mailboxes is null || t.Mailboxes.Count == 0)
        {
            at.At("mailboxes").Error("at least one mailbox is required");
        }
        else
        {
            for (int i = 0; i < t.Mailboxes.Count; i++)
            {
                ConfigPath p = at.At("mailboxes").At(i);
                MailboxSection? m = t.Mailboxes[i];
                if (m is null)
                {
                    p.Error("must be an object");
                    continue;
                }
                if (!MailAddress.TryNormalize(m.Address, out string address, out string message))
                {
                    p.At("address").Error(message);
                    continue;
                }
                if (domains.Count > 0 && !InDomains(address))
                {
                    p.At("address").Error($"\"{address}\" is not in this tenant's domains ({string.Join(", ", domains)})");
                }
                // Note: a set, not a search of the list: a tenant of 10,000 mailboxes was 50 million comparisons.
                if (!listed.Add(address))
                {
                    p.At("address").Error($"\"{address}\" is listed twice");
                }
                string? hash = PasswordHash(m.PasswordHash, p.At("passwordHash"));
                long? quota = m.Quota is null ? null : Size(m.Quota, 0, p.At("quota"));
                if (quota is 0)
                {
                    p.At("quota").Error("must be more than 0; leave it out for no quota");
                }
                mailboxes.Add(new Mailbox(address, hash, quota));
            }
        }

        var alertEmails = new List<string>();
        Uri? webhook = null;
        if (t.Alerts?.Emails is { } emails)
        {
            for (int i = 0; i < emails.Count; i++)
            {
                ConfigPath p = at.At("alerts").At("emails").At(i);
                if (!MailAddress.TryNormalize(emails[i], out string address, out string message))
                {
                    p.Error(message);
                }
                else if (InDomains(address))
                {
                    // Note: the alert must reach someone while the primary is down; an address the
                    // primary itself receives for would wait in the very backup it is warning about.
                    p.Error($"\"{address}\" is inside this tenant's own domains: alerts must go to an external address that does not depend on the primary");
                }
                else
                {
                    alertEmails.Add(address);
                }
            }
        }
        if (t.Alerts?.Webhook is { } hook)
        {
            if (!Uri.TryCreate(hook, UriKind.Absolute, out webhook) || webhook.Scheme is not ("http" or "https"))
            {
                at.At("alerts").At("webhook").Error($"\"{hook}\" must be an absolute http:// or https:// URL");
                webhook = null;
            }
        }

        IReadOnlyList<UserAccount> users = Users(t.DashboardUsers, at.At("dashboardUsers"));
        IReadOnlyList<ApiToken> tokens = ApiTokens(t.ApiTokens, at.At("apiTokens"));
        TimeSpan digest = TimeSpan.FromMinutes(15);
        if (t.Alerts?.DigestIntervalSeconds is { } digestSeconds)
        {
            if (double.IsNaN(digestSeconds) || digestSeconds < 1 || digestSeconds > 86400)
            {
                at.At("alerts").At("digestIntervalSeconds").Error($"{digestSeconds} must be from 1 to 86400 seconds");
            }
            else
            {
                digest = TimeSpan.FromSeconds(digestSeconds);
            }
        }
        long? share = null;
        if (t.StorageShare is not null)
        {
            share = Size(t.StorageShare, 0, at.At("storageShare"));
            if (storage.Allocation > 0 && share > storage.Allocation)
            {
                at.At("storageShare").Error($"{ByteSize.Format(share.Value)} is more than storage.allocation ({ByteSize.Format(storage.Allocation)})");
            }
        }

        RecipientSettings recipients = ValidateRecipients(t.Recipients, at.At("recipients"));
        TenantBranding? branding = ValidateBranding(t.Branding, name, at.At("branding"));
        FilteringSettings filtering = ValidateFiltering(t.Filtering, at.At("filtering"));
        DrillSettings? drill = ValidateDrill(t.Drill, at.At("drill"), domains.Count > 0 ? InDomains : null);

        if (at.ErrorCount > errorsBefore)
        {
            return null;
        }
        return new Tenant
        {
            Id = id,
            Name = name,
            Domains = domains,
            Primary = primary,
            Mailboxes = mailboxes,
            AlertEmails = alertEmails,
            AlertWebhook = webhook,
            DashboardUsers = users,
            StorageShare = share,
            AlertDigestInterval = digest,
            ApiTokens = tokens,
            AcceptOnlyWhilePrimaryDown = t.AcceptOnlyWhilePrimaryDown ?? true,
            Recipients = recipients,
            Branding = branding,
            Filtering = filtering,
            Drill = drill,
        };
    }

    private static void CheckAcrossTenants(
        List<TenantSection?> sections, List<Tenant> tenants, WebSettings web, ConfigPath at)
    {
        // Note: indexes in messages refer to the file, so map valid tenants back to their position.
        var positions = new Dictionary<Tenant, int>();
        foreach (Tenant t in tenants)
        {
            positions[t] = sections.FindIndex(s => s?.Id?.Trim() == t.Id);
        }
        var seenUsers = new HashSet<string>(web.Admins.Select(a => a.User), StringComparer.Ordinal);
        for (int a = 0; a < tenants.Count; a++)
        {
            Tenant ta = tenants[a];
            for (int b = 0; b < a; b++)
            {
                Tenant tb = tenants[b];
                if (ta.Id == tb.Id)
                {
                    at.At(IndexOfNth(sections, ta.Id, 1)).At("id").Error($"\"{ta.Id}\" is already the id of tenants[{positions[tb]}]");
                    continue;
                }
                for (int i = 0; i < ta.Domains.Count; i++)
                {
                    DomainPattern? clash = tb.Domains.FirstOrDefault(d => d.Overlaps(ta.Domains[i]));
                    if (clash is not null)
                    {
                        at.At(positions[ta]).At("domains").At(i).Error($"\"{ta.Domains[i]}\" overlaps \"{clash}\" of tenant \"{tb.Id}\": each domain belongs to one tenant");
                    }
                }
            }
            for (int u = 0; u < ta.DashboardUsers.Count; u++)
            {
                if (!seenUsers.Add(ta.DashboardUsers[u].User))
                {
                    at.At(positions[ta]).At("dashboardUsers").At(u).At("user").Error($"\"{ta.DashboardUsers[u].User}\" is already used by another tenant or an admin: user names are global");
                }
            }
        }
    }

    private static int IndexOfNth(List<TenantSection?> sections, string id, int nth)
    {
        int seen = -1;
        for (int i = 0; i < sections.Count; i++)
        {
            if (sections[i]?.Id?.Trim() == id && ++seen == nth)
            {
                return i;
            }
        }
        return -1;
    }
}
