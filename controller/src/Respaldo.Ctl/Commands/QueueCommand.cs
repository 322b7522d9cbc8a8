using System.CommandLine;
using Respaldo.Ctl.ControlBus;
using Tmds.DBus.Protocol;

namespace Respaldo.Ctl.Commands;

/// <summary><c>respaldoctl queue [TENANT] [--json]</c> and <c>respaldoctl held [TENANT] [--json]</c>: what waits, what is held.</summary>
internal static class QueueCommand
{
    public static Command CreateQueue()
    {
        (Argument<string?> tenant, Option<bool> json) = Arguments();
        var command = new Command("queue", "messages waiting in the backup mailboxes, oldest first") { tenant, json };
        command.SetLiveAction(async (result, client, _) =>
        {
            List<Dictionary<string, VariantValue>> messages = await client.ListAsync("ListWaiting", result.GetValue(tenant) ?? "");
            if (result.GetValue(json))
            {
                BusRecord.PrintJson(w => BusRecord.WriteJsonArray(w, messages));
                return ExitCodes.Success;
            }
            Console.WriteLine($"{"TENANT",-16} {"MAILBOX",-32} {"SIZE",9}  {"ARRIVED",-16}  MESSAGE");
            foreach (Dictionary<string, VariantValue> m in messages)
            {
                Console.WriteLine($"{m.Str("tenant"),-16} {m.Str("mailbox"),-32} {BusRecord.Size(m.Long("size")),9}  {BusRecord.When(m.Time("arrived")),-16}  {m.Str("message")}");
            }
            Console.WriteLine($"{messages.Count} message(s), {BusRecord.Size(messages.Sum(m => m.Long("size")))}");
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command CreateHeld()
    {
        (Argument<string?> tenant, Option<bool> json) = Arguments();
        var command = new Command("held", "messages the primary refused for good, waiting for 'release' or 'bounce'") { tenant, json };
        command.SetLiveAction(async (result, client, _) =>
        {
            List<Dictionary<string, VariantValue>> messages = await client.ListAsync("ListHeld", result.GetValue(tenant) ?? "");
            if (result.GetValue(json))
            {
                BusRecord.PrintJson(w => BusRecord.WriteJsonArray(w, messages));
                return ExitCodes.Success;
            }
            Console.WriteLine($"{"ID",6} {"TENANT",-16} {"RECIPIENT",-32} {"SENDER",-32} {"SIZE",9}  {"HELD",-16}  REASON");
            foreach (Dictionary<string, VariantValue> m in messages)
            {
                string sender = m.Str("sender") is { Length: > 0 } s ? s : "<>";
                Console.WriteLine($"{m.Long("id"),6} {m.Str("tenant"),-16} {m.Str("recipient"),-32} {sender,-32} {BusRecord.Size(m.Long("size")),9}  {BusRecord.When(m.Time("held_at")),-16}  {m.Str("reason")}");
            }
            Console.WriteLine($"{messages.Count} held message(s)");
            return ExitCodes.Success;
        });
        return command;
    }

    private static (Argument<string?>, Option<bool>) Arguments() => (
        new Argument<string?>("tenant") { Arity = ArgumentArity.ZeroOrOne, Description = "one tenant's id (default: every tenant)" },
        CommonOptions.Json());
}
