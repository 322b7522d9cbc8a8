using System.CommandLine;

namespace Respaldo.Ctl.Commands;

/// <summary><c>respaldoctl release ID</c>, <c>respaldoctl bounce ID</c>: the admin's decision about a held message (ids from 'held').</summary>
internal static class HoldCommands
{
    public static Command CreateRelease()
    {
        Argument<long> id = Id();
        var command = new Command("release", "put a held message back in its mailbox, to be handed over again") { id };
        command.SetLiveAction(async (result, client, _) =>
        {
            string path = await client.CallWithIdAsync("Release", result.GetValue(id));
            Console.WriteLine($"released {result.GetValue(id)}: back at {path}; the next hand-over sends it");
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command CreateBounce()
    {
        Argument<long> id = Id();
        var command = new Command("bounce", "return a held message to its sender with a delivery status notification; the copy is kept in STATE/bounced/") { id };
        command.SetLiveAction(async (result, client, _) =>
        {
            string notified = await client.CallWithIdAsync("Bounce", result.GetValue(id));
            Console.WriteLine(notified.Length > 0
                ? $"bounced {result.GetValue(id)}: a delivery status notification went to {notified}"
                : $"bounced {result.GetValue(id)}: it had the null sender, so nobody was notified (RFC 3464)");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Argument<long> Id() => new("id") { Description = "the held message's id, as 'respaldoctl held' shows it" };
}
