using System.CommandLine;
using Respaldo.Ctl.ControlBus;
using Tmds.DBus.Protocol;

namespace Respaldo.Ctl.Commands;

/// <summary>
/// <c>respaldoctl doctor [TENANT] [--json] [--last]</c>: the set-up check (README "Set-up check"),
/// run now by the daemon (root or respaldo-admin: it probes the primary), or the last one it kept
/// (<c>--last</c>, anyone). One line per check: status, what was seen, and the fix. Exit 8 when a
/// check is failing.
/// </summary>
internal static class DoctorCommand
{
    public static Command Create()
    {
        var tenant = new Argument<string>("tenant") { Description = "the tenant to check (default: every tenant)", Arity = ArgumentArity.ZeroOrOne };
        Option<bool> json = CommonOptions.Json();
        var last = new Option<bool>("--last") { Description = "show the last check the daemon kept (at start, every few hours) instead of checking now" };
        var command = new Command("doctor", "the continuity check: DNS, the backup's address, the primary seen from the backup, the configuration") { tenant, json, last };
        command.SetLiveAction(async (result, client, _) =>
        {
            List<Dictionary<string, VariantValue>> checks = await client.ListAsync(result.GetValue(last) ? "GetSetupChecks" : "CheckSetup", result.GetValue(tenant) ?? "");
            if (result.GetValue(json))
            {
                BusRecord.PrintJson(w => BusRecord.WriteJsonArray(w, checks));
            }
            else
            {
                Print(checks);
            }
            return checks.Any(c => c.Str("status") == "failing") ? ExitCodes.SetupFailing : ExitCodes.Success;
        });
        return command;
    }

    private static void Print(List<Dictionary<string, VariantValue>> checks)
    {
        if (checks.Count == 0)
        {
            Console.WriteLine("no set-up check kept yet: run 'respaldoctl doctor' (as root or respaldo-admin) to check now");
            return;
        }
        foreach (IGrouping<string, Dictionary<string, VariantValue>> group in checks.GroupBy(c => c.Str("tenant")))
        {
            Console.WriteLine($"{group.Key} (checked {BusRecord.When(group.First().Time("checked_at"))})");
            foreach (Dictionary<string, VariantValue> c in group)
            {
                string status = c.Str("status") switch
                {
                    "ok" => "ok",
                    "warning" => "WARNING",
                    "failing" => "FAILING",
                    _ => "COULD NOT CHECK",
                };
                Console.WriteLine($"  {status,-15} {c.Str("check"),-20} {c.Str("subject")}: {c.Str("seen")}");
                if (c.Str("fix") is { Length: > 0 } fix && c.Str("status") != "ok")
                {
                    Console.WriteLine($"  {"",-15} {"",-20} fix: {fix}");
                }
            }
        }
        int failing = checks.Count(c => c.Str("status") == "failing");
        int warnings = checks.Count(c => c.Str("status") == "warning");
        int unchecked_ = checks.Count(c => c.Str("status") == "could-not-check");
        Console.WriteLine();
        Console.WriteLine($"{checks.Count(c => c.Str("status") == "ok")} ok, {warnings} warnings, {failing} failing, {unchecked_} could not be checked");
    }
}
