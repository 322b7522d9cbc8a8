using System.CommandLine;
using Respaldo.Ctl.ControlBus;
using Tmds.DBus.Protocol;

namespace Respaldo.Ctl.Commands;

/// <summary>
/// <c>respaldoctl drill TENANT [--json]</c>: a fire drill now (README "Fire drills"), run by the
/// daemon (root or respaldo-admin: it sends mail through the border to the primary). Prints the
/// outcome and the four timings; exit 9 when the drill failed.
/// </summary>
internal static class DrillCommand
{
    public static Command Create()
    {
        var tenant = new Argument<string>("tenant") { Description = "the tenant whose drill address gets the test message" };
        Option<bool> json = CommonOptions.Json();
        var command = new Command("drill", "a fire drill: a test message through the backup's intake, handed over to the primary, with its timings") { tenant, json };
        command.SetLiveAction(async (result, client, _) =>
        {
            List<Dictionary<string, VariantValue>> drills = await client.ListAsync("RunDrill", result.GetValue(tenant) ?? "");
            if (result.GetValue(json))
            {
                BusRecord.PrintJson(w => BusRecord.WriteJsonArray(w, drills));
            }
            else
            {
                Print(drills);
            }
            return drills.All(d => d.Str("outcome") == "passed") ? ExitCodes.Success : ExitCodes.DrillFailed;
        });
        return command;
    }

    private static void Print(List<Dictionary<string, VariantValue>> drills)
    {
        foreach (Dictionary<string, VariantValue> d in drills)
        {
            DateTimeOffset? started = d.Time("started_at");
            string After(string key) => d.Time(key) is { } t && started is { } s
                ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{(t - s).TotalSeconds:0.000} s")
                : "-";
            Console.WriteLine($"{d.Str("tenant")}: drill {d.Str("drill")} to {d.Str("address")} {(d.Str("outcome") == "passed" ? "passed" : "FAILED")} (started {BusRecord.When(started)})");
            Console.WriteLine($"  accepted    {After("accepted_at")}");
            Console.WriteLine($"  stored      {After("stored_at")}");
            Console.WriteLine($"  seen        {After("seen_at")}");
            Console.WriteLine($"  handed over {After("handed_over_at")}");
            Console.WriteLine($"  {(d.Str("outcome") == "passed" ? "" : d.Str("step") + ": ")}{d.Str("reason")}");
        }
    }
}
