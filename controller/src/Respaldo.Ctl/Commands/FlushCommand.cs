using System.CommandLine;
using System.Globalization;
using Respaldo.Ctl.ControlBus;
using Tmds.DBus.Protocol;

namespace Respaldo.Ctl.Commands;

/// <summary>
/// <c>respaldoctl flush [TENANT]</c>: "hand over now", then a progress bar until every asked
/// tenant is done: its hand-over started after the request has finished, or its primary was
/// found down by a probe after the request, or nothing waits. Exit 0 when everything went,
/// 6 when a primary is down, 1 when messages were deferred or held.
/// </summary>
internal static class FlushCommand
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);

    public static Command Create()
    {
        var tenant = new Argument<string?>("tenant") { Arity = ArgumentArity.ZeroOrOne, Description = "one tenant's id (default: every tenant)" };
        var timeout = new Option<int>("--timeout")
        {
            Description = "give up waiting after this many seconds (the hand-over goes on); 0 waits until done",
        };
        var command = new Command("flush", "hand every waiting message over now, with a progress bar until done") { tenant, timeout };
        command.SetLiveAction(async (result, client, cancellationToken) =>
        {
            (string[] asked, long requestedAt) = await client.HandOverNowAsync(result.GetValue(tenant) ?? "");
            var progress = new ProgressBar(Console.IsErrorRedirected);
            DateTimeOffset? deadline = result.GetValue(timeout) is > 0 and var s ? DateTimeOffset.UtcNow.AddSeconds(s) : null;
            while (true)
            {
                (_, List<Dictionary<string, VariantValue>> all) = await client.GetStatusAsync();
                List<Dictionary<string, VariantValue>> tenants = all.Where(t => asked.Contains(t.Str("id"))).ToList();
                progress.Draw(tenants);
                if (tenants.All(t => IsDone(t, requestedAt)))
                {
                    progress.End();
                    return Summarize(tenants, requestedAt);
                }
                if (deadline is { } d && DateTimeOffset.UtcNow > d)
                {
                    progress.End();
                    Console.Error.WriteLine("respaldoctl: --timeout reached; the hand-over goes on in the daemon ('respaldoctl status')");
                    return ExitCodes.Failure;
                }
                await Task.Delay(Poll, cancellationToken);
            }
        });
        return command;
    }

    private static bool IsDone(Dictionary<string, VariantValue> t, long requestedAt) =>
        !t.Bool("running") && (
            t.Long("last_started") >= requestedAt
            || t.Long("waiting") == 0
            || (t.Str("primary_state") == "down" && t.Long("last_probe_at") >= requestedAt));

    private static int Summarize(List<Dictionary<string, VariantValue>> tenants, long requestedAt)
    {
        int exit = ExitCodes.Success;
        foreach (Dictionary<string, VariantValue> t in tenants)
        {
            string id = t.Str("id");
            if (t.Long("last_started") >= requestedAt)
            {
                double seconds = (t.Long("last_finished") - t.Long("last_started")) / 1000.0;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{id}: {t.Long("last_delivered")} delivered, {t.Long("last_deferred")} deferred, {t.Long("last_held")} held of {t.Long("last_total")} in {seconds:0.0} s{(t.Str("last_stop_reason") is { Length: > 0 } r ? $" ({r})" : "")}"));
                if (t.Long("last_deferred") > 0 || t.Long("last_held") > 0)
                {
                    exit = Math.Max(exit, ExitCodes.Failure);
                }
                if (t.Str("primary_state") == "down" && t.Long("waiting") > 0)
                {
                    exit = ExitCodes.PrimaryDown;
                }
            }
            else if (t.Long("waiting") == 0)
            {
                Console.WriteLine($"{id}: nothing waiting");
            }
            else
            {
                Console.WriteLine($"{id}: primary {t.Str("primary")} is down ({t.Str("last_probe_reply")}); {t.Long("waiting")} message(s) still waiting");
                exit = ExitCodes.PrimaryDown;
            }
        }
        return exit;
    }

    /// <summary>A bar redrawn in place on a terminal; one line per change when standard error is a file or a pipe.</summary>
    private sealed class ProgressBar(bool redirected)
    {
        private const int Width = 30;
        private string _last = "";

        public void Draw(List<Dictionary<string, VariantValue>> tenants)
        {
            List<Dictionary<string, VariantValue>> running = tenants.Where(t => t.Bool("running")).ToList();
            if (running.Count == 0)
            {
                return;
            }
            long total = running.Sum(t => t.Long("run_total"));
            long done = running.Sum(t => t.Long("run_delivered") + t.Long("run_deferred") + t.Long("run_held"));
            long problems = running.Sum(t => t.Long("run_deferred") + t.Long("run_held"));
            double rate = running.Sum(t => t.Double("run_rate"));
            int filled = total == 0 ? Width : (int)(Width * done / total);
            string text = string.Create(CultureInfo.InvariantCulture,
                $"[{new string('#', filled)}{new string('.', Width - filled)}] {done}/{total} handed over, {problems} deferred or held, {rate:0.0} msg/s");
            if (text == _last)
            {
                return;
            }
            _last = text;
            if (redirected)
            {
                Console.Error.WriteLine(text);
            }
            else
            {
                Console.Error.Write("\r" + text);
            }
        }

        public void End()
        {
            if (!redirected && _last.Length > 0)
            {
                Console.Error.WriteLine();
            }
        }
    }
}
