using System.Globalization;
using Respaldo.Configuration;
using Respaldo.Journaling;

namespace Respaldo.Continuity;

/// <summary>
/// What only a real message shows (pure, over the tenant's last fire drill):
/// <c>primary-accepts-backup</c>, the primary took the last drill from the backup (not
/// greylisted, rate-limited or refused). What the primary trusts (no relay rights, the backup's
/// ARC seal) cannot be seen from the backup: a passed drill says so, as the list to confirm
/// with the primary's admin.
/// </summary>
public static class DrillChecks
{
    public const string Accepts = "primary-accepts-backup";

    /// <summary>A passed drill older than this proves little about today's primary: a warning.</summary>
    public static readonly TimeSpan Stale = TimeSpan.FromDays(7);

    /// <summary>What cannot be seen from the backup, even through a drill that passed.</summary>
    public const string ToConfirm = "what the primary trusts cannot be seen from here: confirm with the primary's admin that the backup's address is in no mynetworks and no permit rule, that the primary trusts the backup's ARC seal and treats it as an SPF external relay, and that it neither greylists nor rate-limits it (README, \"What the primary's admin must allow\")";

    public static SetupCheck Evaluate(Tenant tenant, DrillRecord? last, DateTimeOffset now)
    {
        const string Why = "during an outage the backup hands every message over to the primary from its own address; a primary that greylists, rate-limits or refuses that address keeps the backlog waiting when it comes back";
        string run = $"respaldoctl drill {tenant.Id} (or the Set-up page's \"Run a drill\")";
        if (tenant.Drill is not { } drill)
        {
            return new SetupCheck(Accepts, tenant.Id, CheckStatus.Warning, "no drill address configured: no message has proved the whole path", Why,
                $"set tenants[].drill.address to a mailbox of the tenant that the primary has (and drill.everySeconds, e.g. 86400), then {run}");
        }
        if (last is null)
        {
            return new SetupCheck(Accepts, drill.Address, CheckStatus.Warning, "no drill has run yet", Why,
                drill.Every > TimeSpan.Zero ? $"wait for the scheduled drill, or {run}" : $"{run}; set drill.everySeconds (e.g. 86400) to drill daily");
        }
        string when = last.Started.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        if (last.Outcome == "passed")
        {
            string took = last.HandedOver is { } handed && last.Accepted is { } accepted
                ? string.Create(CultureInfo.InvariantCulture, $", handed over {(handed - accepted).TotalSeconds:0.#} s after the backup accepted it")
                : "";
            return now - last.Started > Stale
                ? new SetupCheck(Accepts, drill.Address, CheckStatus.Warning, $"the last drill passed, but on {when}{took}", Why,
                    $"{run}; set drill.everySeconds (e.g. 86400) so a drill proves it daily")
                // Note: ok is for what was seen; the rest is said, never counted as checked.
                : new SetupCheck(Accepts, drill.Address, CheckStatus.Ok, $"the drill of {when} passed{took}; {ToConfirm}", Why, "");
        }
        return last.Step switch
        {
            // Note: a primary that is down says nothing of whether it takes the backup's mail.
            "primary-down" => new SetupCheck(Accepts, drill.Address, CheckStatus.CouldNotCheck, $"the drill of {when} found the primary down: {last.Reason}", Why,
                $"{run} once the primary is up"),
            "primary" => new SetupCheck(Accepts, drill.Address, CheckStatus.Failing, $"the drill of {when} failed at the primary: {last.Reason}", Why,
                $"ask the primary's admin to let the backup's address deliver without greylisting, rate limits or client restrictions (README, \"What the primary's admin must allow\"), then {run}"),
            _ => new SetupCheck(Accepts, drill.Address, CheckStatus.Failing, $"the drill of {when} failed at step {last.Step}: {last.Reason}", Why,
                $"see the drill's reason (respaldoctl drill {tenant.Id} --json, the journal's table drills), fix it, then {run}"),
        };
    }
}
