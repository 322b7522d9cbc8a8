using System.CommandLine;
using Respaldo.Ctl.ControlBus;
using Tmds.DBus.Protocol;

namespace Respaldo.Ctl.Commands;

/// <summary><c>respaldoctl probe TENANT [--json]</c>: probe the tenant's primary now (recorded like any probe). Exit 6 when no host is up.</summary>
internal static class ProbeCommand
{
    public static Command Create()
    {
        var tenant = new Argument<string>("tenant") { Description = "the tenant whose primary to probe" };
        Option<bool> json = CommonOptions.Json();
        var command = new Command("probe", "probe a tenant's primary now: would it take mail?") { tenant, json };
        command.SetLiveAction(async (result, client, _) =>
        {
            List<Dictionary<string, VariantValue>> results = await client.ListAsync("ProbeNow", result.GetValue(tenant)!);
            if (result.GetValue(json))
            {
                BusRecord.PrintJson(w => BusRecord.WriteJsonArray(w, results));
            }
            else
            {
                foreach (Dictionary<string, VariantValue> r in results)
                {
                    string code = r.Long("code") is > 0 and var c ? $"{c} " : "";
                    Console.WriteLine($"{r.Str("host")}: {(r.Bool("up") ? "up" : "down")} in {r.Double("latency_ms"):0} ms{(r.Bool("tls") ? ", TLS" : "")} (at {r.Str("stage")}: {code}{r.Str("reply")})");
                }
            }
            return results.Any(r => r.Bool("up")) ? ExitCodes.Success : ExitCodes.PrimaryDown;
        });
        return command;
    }
}
