using Respaldo.Status;

namespace Respaldo.Daemon.Web.Dashboard.Pages;

/// <summary>Each mailbox's waiting messages and size, with its quota where configured.</summary>
public sealed class MailboxesModel(StatusReader status) : TenantPageModel(status)
{
    public IReadOnlyList<MailboxStatus> Mailboxes { get; private set; } = [];

    public void OnGet() => Mailboxes = Status.Mailboxes(Tenant.Id);
}
