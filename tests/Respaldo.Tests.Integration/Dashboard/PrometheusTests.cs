using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Dashboard;

/// <summary>
/// What a provider plugs into Prometheus and Grafana, judged by Prometheus' own tool: the live
/// /metrics passes 'promtool check metrics' and carries the series operators ask for; the shipped
/// alerting rules pass 'promtool check rules' and their unit tests; the rules and the Grafana
/// dashboard name only series the daemon exports, in valid PromQL.
/// </summary>
[Collection(LabCollection.Name)]
public sealed partial class PrometheusTests(LabFixture lab)
{
    private static string Rules => Path.Combine(RepoPaths.Root, "deploy", "prometheus", "respaldo-rules.yml");

    private static string RulesTests => Path.Combine(RepoPaths.Root, "deploy", "prometheus", "respaldo-rules.test.yml");

    private static string Dashboard => Path.Combine(RepoPaths.Root, "deploy", "grafana", "respaldo.json");

    [GeneratedRegex("^# TYPE (respaldo_[a-z_]+) (gauge|counter|histogram|summary)$", RegexOptions.Multiline)]
    private static partial Regex TypeLine();

    [GeneratedRegex("\\brespaldo_[a-z_]+\\b")]
    private static partial Regex SeriesName();

    private Task<string> ScrapeAsync() => LabMetrics.ScrapeAsync(lab);

    private static double Value(string metrics, string series) => LabMetrics.Value(metrics, series);

    private static double ValueOrZero(string metrics, string series) => LabMetrics.ValueOrZero(metrics, series);

    /// <summary>The series the daemon exports (by their # TYPE lines), with their types.</summary>
    private async Task<Dictionary<string, string>> ExportedAsync() =>
        TypeLine().Matches(await ScrapeAsync()).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value, StringComparer.Ordinal);

    /// <summary>The exported series a PromQL name refers to (a histogram's _bucket, _sum and _count are the histogram's).</summary>
    private static string? Exported(string name, Dictionary<string, string> exported)
    {
        if (exported.ContainsKey(name))
        {
            return name;
        }
        foreach (string suffix in (string[])["_bucket", "_sum", "_count"])
        {
            if (name.EndsWith(suffix, StringComparison.Ordinal) && exported.TryGetValue(name[..^suffix.Length], out string? type) && type is "histogram" or "summary")
            {
                return name[..^suffix.Length];
            }
        }
        return null;
    }

    [Fact]
    public async Task LiveMetricsPassPromtoolAndCarryQueueAgeHandOverHistogramsAndBuildInfo()
    {
        string tenant = lab["DASHBOARD_TENANT"];
        string l = $"tenant=\"{tenant}\"";
        await lab.RunLabAsync("primary-down");
        string before = await ScrapeAsync();
        double deliveredBefore = ValueOrZero(before, $"respaldo_handover_duration_seconds_count{{{l},outcome=\"delivered\"}}");
        double bytesBefore = ValueOrZero(before, $"respaldo_handover_message_bytes_sum{{{l}}}");

        await using (SmtpTestClient smtp = await SmtpTestClient.ConnectAsync(lab.BackupSmtp.Host, lab.BackupSmtp.Port))
        {
            await smtp.CommandAsync("EHLO prometheus.example.org");
            for (int i = 0; i < 2; i++)
            {
                SmtpReply r = await smtp.SendAsync("sender@example.org", ["ventas@suempresa.test"], TestMessages.Plain(TestMessages.Unique("prometheus")));
                Assert.True(r.Code == 250, r.Text);
            }
        }
        DateTime sent = DateTime.UtcNow;
        // The oldest waiting message ages with the clock while the primary is down.
        string waiting = "";
        double age = 0;
        for (int i = 0; i < 100 && age < 1.5; i++)
        {
            await Task.Delay(200);
            waiting = await ScrapeAsync();
            age = ValueOrZero(waiting, $"respaldo_oldest_waiting_message_age_seconds{{{l}}}");
        }
        Assert.True(age >= 1.5, $"the oldest waiting message's age stayed at {age}s\n{waiting}");
        Assert.True(age <= (DateTime.UtcNow - sent).TotalSeconds + 600, $"age {age}s: older than anything this lab holds");
        Assert.True(Value(waiting, $"respaldo_messages_waiting{{{l}}}") >= 2);
        // The node's hand-over connections: the lab's limit (controller.maxConnections' default), and what is open or waiting within it.
        Assert.Equal(100, Value(waiting, "respaldo_handover_connections_limit"));
        Assert.InRange(Value(waiting, "respaldo_handover_connections{state=\"open\"}"), 0, 100);
        Assert.Equal(0, Value(waiting, "respaldo_handover_connections{state=\"waiting\"}"));

        ProcessRunner.Result check = await ProcessRunner.RunAsync("promtool", ["check", "metrics"], stdin: waiting);
        Assert.True(check.ExitCode == 0 && check.Output.Trim().Length == 0 && check.Error.Trim().Length == 0, $"promtool check metrics:\n{check}");

        Match build = Regex.Match(waiting, "^respaldo_build_info\\{version=\"([^\"]+)\",revision=\"([^\"]*)\",runtime=\"([^\"]+)\"\\} 1$", RegexOptions.Multiline);
        Assert.True(build.Success, "respaldo_build_info{version,revision,runtime} 1 is exported");
        Assert.Matches("^[0-9]+\\.[0-9]+\\.[0-9]+$", build.Groups[1].Value);
        Assert.StartsWith(".NET 10", build.Groups[3].Value, StringComparison.Ordinal);

        await lab.RunLabAsync("primary-up");
        string after = "";
        for (int i = 0; i < 150; i++)
        {
            after = await ScrapeAsync();
            if (ValueOrZero(after, $"respaldo_messages_waiting{{{l}}}") == 0
                && ValueOrZero(after, $"respaldo_handover_duration_seconds_count{{{l},outcome=\"delivered\"}}") >= deliveredBefore + 2)
            {
                break;
            }
            await Task.Delay(200);
        }
        Assert.True(Value(after, $"respaldo_handover_duration_seconds_count{{{l},outcome=\"delivered\"}}") >= deliveredBefore + 2,
            $"each delivered message is one observation of the duration histogram\n{after}");
        Assert.True(Value(after, $"respaldo_handover_duration_seconds_bucket{{{l},outcome=\"delivered\",le=\"+Inf\"}}") >= deliveredBefore + 2);
        Assert.True(Value(after, $"respaldo_handover_duration_seconds_sum{{{l},outcome=\"delivered\"}}") > 0);
        // Two small plain messages: each one is some hundreds of bytes, under the first bucket (1 KiB).
        Assert.InRange(Value(after, $"respaldo_handover_message_bytes_sum{{{l}}}") - bytesBefore, 2 * 200, 2 * 1024);
        Assert.Equal(0, Value(after, $"respaldo_oldest_waiting_message_age_seconds{{{l}}}"));
        check = await ProcessRunner.RunAsync("promtool", ["check", "metrics"], stdin: after);
        Assert.True(check.ExitCode == 0 && check.Output.Trim().Length == 0 && check.Error.Trim().Length == 0, $"promtool check metrics (with histograms):\n{check}");
    }

    [Fact]
    public async Task TheShippedAlertingRulesPassPromtoolAndTheirTestsAndNameOnlyExportedSeries()
    {
        ProcessRunner.Result check = await ProcessRunner.RunAsync("promtool", ["check", "rules", Rules]);
        Assert.True(check.ExitCode == 0, $"promtool check rules:\n{check}");
        ProcessRunner.Result test = await ProcessRunner.RunAsync("promtool", ["test", "rules", RulesTests]);
        Assert.True(test.ExitCode == 0 && test.Output.Contains("SUCCESS", StringComparison.Ordinal), $"promtool test rules:\n{test}");

        Dictionary<string, string> exported = await ExportedAsync();
        string rules = await File.ReadAllTextAsync(Rules);
        var named = SeriesName().Matches(rules).Select(m => m.Value).ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(named);
        Assert.All(named, n => Assert.True(Exported(n, exported) is not null, $"the rules name {n}, which respaldod does not export"));
        // What the issue asks the rules to watch, each by its alert.
        foreach (string alert in (string[])["RespaldoNotScraped", "RespaldoPrimaryDownWithMailWaiting", "RespaldoOldestWaitingMessageOld",
            "RespaldoMessagesHeld", "RespaldoStorageOver80Percent", "RespaldoHandOverFailing", "RespaldoDrillFailingOrStale", "RespaldoHandOverConnectionsSaturated"])
        {
            Assert.Contains($"alert: {alert}\n", rules, StringComparison.Ordinal);
            Assert.Contains($"alertname: {alert}\n", await File.ReadAllTextAsync(RulesTests), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TheGrafanaDashboardIsValidPromQlOverExportedSeries()
    {
        using JsonDocument dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(Dashboard));
        JsonElement root = dashboard.RootElement;
        Assert.Equal("respaldo", root.GetProperty("uid").GetString());
        string[] variables = root.GetProperty("templating").GetProperty("list").EnumerateArray().Select(v => v.GetProperty("name").GetString()!).ToArray();
        Assert.Contains("datasource", variables);
        Assert.Contains("tenant", variables);

        var exprs = new List<(string Panel, string Expr)>();
        var covered = new HashSet<string>(StringComparer.Ordinal);
        Dictionary<string, string> exported = await ExportedAsync();
        foreach (JsonElement panel in root.GetProperty("panels").EnumerateArray().Where(p => p.GetProperty("type").GetString() != "row"))
        {
            string title = panel.GetProperty("title").GetString()!;
            Assert.Equal("${datasource}", panel.GetProperty("datasource").GetProperty("uid").GetString());
            JsonElement[] targets = panel.GetProperty("targets").EnumerateArray().ToArray();
            Assert.True(targets.Length > 0, $"panel '{title}' has no query");
            foreach (JsonElement target in targets)
            {
                string expr = target.GetProperty("expr").GetString()!;
                exprs.Add((title, expr));
                foreach (string name in SeriesName().Matches(expr).Select(m => m.Value))
                {
                    string? series = Exported(name, exported);
                    Assert.True(series is not null, $"panel '{title}' queries {name}, which respaldod does not export");
                    covered.Add(series!);
                }
            }
        }
        // Every query is PromQL Prometheus accepts: as recording rules, with Grafana's variable filled in.
        var file = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
        for (int i = 0; i < exprs.Count; i++)
        {
            string expr = exprs[i].Expr.Replace("$tenant", ".*", StringComparison.Ordinal);
            file.Append(CultureInfo.InvariantCulture, $"      - record: dashboard:query{i}\n        expr: {JsonSerializer.Serialize(expr)}\n");
        }
        string path = Path.Combine(Path.GetTempPath(), $"respaldo-dashboard-{Guid.NewGuid():N}.yml");
        await File.WriteAllTextAsync(path, file.ToString());
        try
        {
            ProcessRunner.Result check = await ProcessRunner.RunAsync("promtool", ["check", "rules", path]);
            Assert.True(check.ExitCode == 0, $"the dashboard's queries are not valid PromQL:\n{check}\n{file}");
        }
        finally
        {
            File.Delete(path);
        }
        // The series operators ask for first are on the dashboard.
        foreach (string series in (string[])["respaldo_messages_waiting", "respaldo_primary_up", "respaldo_oldest_waiting_message_age_seconds",
            "respaldo_handovers_total", "respaldo_handover_duration_seconds", "respaldo_handover_message_bytes", "respaldo_intake_refused_total",
            "respaldo_messages_held", "respaldo_storage_used_bytes", "respaldo_build_info"])
        {
            Assert.Contains(series, covered);
        }
    }
}
