using Respaldo.Drills;

namespace Respaldo.Tests.Drills;

/// <summary>
/// The fire drill's token: only a ticket this process issued passes, once, for its own tenant
/// and recipient, before it expires, with its MAC intact.
/// </summary>
public sealed class DrillTicketsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private const string Host = "mail-backup.suempresa.test";

    [Fact]
    public void AnIssuedTicketIsRedeemedOnceForItsTenantAndRecipient()
    {
        var tickets = new DrillTickets();
        DrillTicket t = tickets.Issue("suempresa", "info@suempresa.test", Host, Now);
        Assert.Matches($"^respaldo-drill\\+[0-9a-f]{{16}}\\.[0-9a-f]{{24}}@{Host.Replace(".", "\\.", StringComparison.Ordinal)}$", t.Sender);
        Assert.True(tickets.TryRedeem("suempresa", "info@suempresa.test", t.Sender, Now.AddSeconds(3)));
        // Replayed: spent.
        Assert.False(tickets.TryRedeem("suempresa", "info@suempresa.test", t.Sender, Now.AddSeconds(4)));
    }

    [Fact]
    public void AForgedMacDoesNotPassAndDoesNotSpendTheRealTicket()
    {
        var tickets = new DrillTickets();
        DrillTicket t = tickets.Issue("suempresa", "info@suempresa.test", Host, Now);
        int dot = t.Sender.IndexOf('.', StringComparison.Ordinal);
        char flipped = t.Sender[dot + 1] == '0' ? '1' : '0';
        string forged = t.Sender[..(dot + 1)] + flipped + t.Sender[(dot + 2)..];
        Assert.False(tickets.TryRedeem("suempresa", "info@suempresa.test", forged, Now));
        Assert.False(tickets.TryRedeem("suempresa", "info@suempresa.test", "respaldo-drill+0011223344556677.00112233445566778899aabb@" + Host, Now));
        Assert.False(tickets.TryRedeem("suempresa", "info@suempresa.test", "respaldo-drill+whatever@" + Host, Now));
        Assert.True(tickets.TryRedeem("suempresa", "info@suempresa.test", t.Sender, Now));
    }

    [Fact]
    public void ATicketFromAnotherProcessDoesNotPass()
    {
        DrillTicket elsewhere = new DrillTickets().Issue("suempresa", "info@suempresa.test", Host, Now);
        Assert.False(new DrillTickets().TryRedeem("suempresa", "info@suempresa.test", elsewhere.Sender, Now));
    }

    [Theory]
    [InlineData("otra", "info@suempresa.test")]
    [InlineData("suempresa", "ventas@suempresa.test")]
    public void ATicketForAnotherTenantOrRecipientDoesNotPass(string tenant, string recipient)
    {
        var tickets = new DrillTickets();
        DrillTicket t = tickets.Issue("suempresa", "info@suempresa.test", Host, Now);
        Assert.False(tickets.TryRedeem(tenant, recipient, t.Sender, Now));
        Assert.True(tickets.TryRedeem("suempresa", "info@suempresa.test", t.Sender, Now));
    }

    [Fact]
    public void AnExpiredOrWithdrawnTicketDoesNotPass()
    {
        var tickets = new DrillTickets();
        DrillTicket old = tickets.Issue("suempresa", "info@suempresa.test", Host, Now);
        Assert.False(tickets.TryRedeem("suempresa", "info@suempresa.test", old.Sender, Now + DrillTickets.Lifetime));
        DrillTicket withdrawn = tickets.Issue("suempresa", "info@suempresa.test", Host, Now);
        tickets.Withdraw(withdrawn.Id);
        Assert.False(tickets.TryRedeem("suempresa", "info@suempresa.test", withdrawn.Sender, Now));
    }
}
