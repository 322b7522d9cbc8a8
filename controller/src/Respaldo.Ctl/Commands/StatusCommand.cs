using System.CommandLine;
using Respaldo.Ctl.ControlBus;
using Tmds.DBus.Protocol;

namespace Respaldo.Ctl.Commands;

/// <summary><c>respaldoctl status [--json]</c>: each tenant's primary, what waits, what is held, the hand-over in progress.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        Option<bool> json = CommonOptions.Json();
        var command = new Command("status", "what the daemon is doing, per tenant (anyone may ask)") { json };
        command.SetLiveAction(async (result, client, _) =>
        {
            (Dictionary<string, VariantValue> daemon, List<Dictionary<string, VariantValue>> tenants) = await client.GetStatusAsync();
            if (result.GetValue(json))
            {
                BusRecord.PrintJson(w =>
                {
                    w.WriteStartObject();
                    w.WritePropertyName("daemon");
                    BusRecord.WriteJson(w, daemon);
                    w.WritePropertyName("tenants");
                    BusRecord.WriteJsonArray(w, tenants);
                    w.WriteEndObject();
                });
                return ExitCodes.Success;
            }
            Console.WriteLine($"respaldod (pid {daemon.Long("pid")}): {daemon.Str("config")}, loaded {BusRecord.When(daemon.Time("loaded_at"))}");
            if (daemon.Str("reload_problem") is { Length: > 0 } problem)
            {
                Console.WriteLine($"  {problem}");
            }
            Console.WriteLine();
            Console.WriteLine($"{"TENANT",-16} {"PRIMARY",-28} {"STATE",-8} {"SINCE",-9} {"WAITING",-16} {"HELD",5}  HAND-OVER");
            foreach (Dictionary<string, VariantValue> t in tenants)
            {
                string run = t.Bool("running")
                    ? $"{t.Long("run_delivered") + t.Long("run_deferred") + t.Long("run_held")}/{t.Long("run_total")} ({t.Double("run_rate"):0.#} msg/s)"
                    : t.Time("last_finished") is { } f
                        ? $"last {BusRecord.When(f)}: {t.Long("last_delivered")} delivered, {t.Long("last_deferred")} deferred, {t.Long("last_held")} held"
                        : "-";
                string waiting = $"{t.Long("waiting")} ({BusRecord.Size(t.Long("waiting_bytes"))})";
                Console.WriteLine($"{t.Str("id"),-16} {t.Str("primary"),-28} {t.Str("primary_state"),-8} {BusRecord.When(t.Time("primary_since")),-9} {waiting,-16} {t.Long("held"),5}  {run}");
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
