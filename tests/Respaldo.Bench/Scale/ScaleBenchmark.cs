using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Respaldo.Tests;
using Respaldo.Tests.Lab;

namespace Respaldo.Bench.Scale;

/// <summary>
/// Issue 14, item 1: one backup node for a provider. A lab with N tenants and M mailboxes (all
/// tenants' primary is the lab's one real primary Postfix), W messages written straight into the
/// maildirs as Dovecot's LMTP leaves them, plus a slice over real SMTP; then, phase by phase:
/// the configuration's render and Postfix's reload; with nothing waiting: the controller's
/// start, idle CPU, RSS, policy RCPT latency, a full rescan, SMTP intake; with W waiting and the
/// primary down: the same again; then the primary returns and the controller is restarted:
/// start-up to the first hand-over, the hand-over rate over the first and last 10 % of the
/// backlog, and the journal's size. The issue's "Done when" thresholds are printed beside.
/// </summary>
public sealed class ScaleBenchmark(ScaleOptions options, BenchLab lab, Action<string> say)
{
    private readonly Report _report = new("PASS", "MISSED");
    private ScaleTenants _plan = ScaleTenants.Plan(1, 1);
    private ControllerLog? _log;
    private IReadOnlyList<string> _slice = [];
    private CancellationToken _cancel;
    private int _expected;

    // The last line's figures.
    private double _render;
    private double _reload;
    private double _readyAtW;
    private double _firstHandOver = double.NaN;
    private double _bytesPerMessage;
    private double _rescanAtW;
    private double _rescanCpuAtW;
    private double _idle0;
    private double _idleW;
    private double _p99At0;
    private double _p99AtW;
    private double _first10;
    private double _last10;
    private InotifyWatches? _watches;
    private long _journalBytes;

    /// <summary>The table so far (printed also when a phase failed or the run was interrupted).</summary>
    public Report Report => _report;

    private ControllerLog Log => _log ?? throw new InvalidOperationException("no lab yet");

    private string Maildirs => lab["BACKUP_MAILDIRS"];

    public async Task<Report> RunAsync(CancellationToken cancellationToken)
    {
        _cancel = cancellationToken;
        await SetUpAsync();
        await NothingWaitingAsync();
        await FillAsync();
        await WaitingAsync();
        await HandOverAsync();
        return _report;
    }

    public string LastLine() => string.Create(CultureInfo.InvariantCulture,
        $"bench-scale: tenants={options.Tenants} mailboxes={options.Mailboxes} waiting={options.Messages} render={_render:0.00}s reload={_reload:0.00}s " +
        $"ready={_readyAtW:0.0}s first-handover={_firstHandOver:0.0}s rss/msg={_bytesPerMessage:0}B rescan={_rescanAtW:0.00}s({_rescanCpuAtW:0.00}s cpu) " +
        $"idle={_idle0:0.00}%/{_idleW:0.00}% rcpt-p99={_p99At0:0.00}/{_p99AtW:0.00}ms handover={_first10:0}/{_last10:0}msg/s " +
        $"inotify={_watches?.MaildirWatches}/{_watches?.Directories}dirs(limit {_watches?.Limit}) journal={Mib(_journalBytes):0.0}MiB");

    // ---- set-up -------------------------------------------------------------------------

    /// <summary>Whether this process ignores SIGHUP (bit 0 of SigIgn in /proc/self/status).</summary>
    private static bool IgnoresHangup()
    {
        string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (ulong.Parse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture) & 1) != 0;
    }

    private async Task SetUpAsync()
    {
        say($"lab in {lab.Directory}, ports {lab.PortBase}+; {options.Tenants} tenants, {options.Mailboxes} mailboxes, {options.Messages} waiting messages");
        if (IgnoresHangup())
        {
            // Note: the controller would inherit it (a disposition ignored at exec stays ignored,
            // and .NET then installs no handler): the reload that asks for the rescan would do
            // nothing and the run would wait five minutes for it, far into a run of an hour.
            throw new InvalidOperationException("SIGHUP is ignored (started under nohup?): the lab's controller would inherit that and the rescan cannot be asked by a reload; start the run without nohup (setsid, or a terminal multiplexer)");
        }
        if (Directory.Exists(lab.Directory))
        {
            await lab.RunAsync("destroy", check: false, timeout: DestroyTimeout);
        }
        await lab.RunAsync("config");
        _plan = ScaleTenants.Plan(options.Tenants, options.Mailboxes);
        _plan.AddTo(lab["CONFIG"], lab["PRIMARY_SMTP"]);
        long up = Stopwatch.GetTimestamp();
        await lab.RunAsync("up");
        say($"  lab up in {Stopwatch.GetElapsedTime(up).TotalSeconds:0.0} s");
        _log = new ControllerLog(Path.Combine(lab["LOGS"], "controller.log"));
        _plan.AddToPrimary(lab["PRIMARY_POSTFIX"]);
        await lab.RunAsync("primary-down");

        // One real delivery through the backup (smtpd, the policy service, LMTP into Dovecot): the
        // template of every message written into the maildirs.
        string first = _plan.Mailboxes[0];
        await SmtpSource.SendAsync(lab.BackupSmtp, [first], 1, options.MessageSize, sessionsEach: 1);
        await WaitUntilAsync(() => CountNew([first]) == 1, TimeSpan.FromMilliseconds(200), TimeSpan.FromMinutes(2), () => $"the sample message for {first} was not stored");
        await StopControllerAsync();
        MaildirFiller filler = MaildirFiller.FromSample(Maildirs, first, out string sample);
        File.Delete(sample);
        say($"  the sample Dovecot delivered: {Path.GetFileName(sample)}; writing {filler.Describe()}");

        long made = Stopwatch.GetTimestamp();
        filler.MakeMaildirs(_plan.Mailboxes);
        say($"  {options.Mailboxes} maildirs made in {Stopwatch.GetElapsedTime(made).TotalSeconds:0.0} s");
        _filler = filler;
        _slice = Enumerable.Range(0, 10).Select(i => _plan.Mailboxes[i * _plan.Mailboxes.Count / 10]).Distinct().ToList();
    }

    private MaildirFiller? _filler;

    private async Task RenderAsync()
    {
        // Note: into a directory of its own, so every file is written as at a first render; the
        // lab's rendered/ stays what the running Postfix and Dovecot read.
        string fresh = Path.Combine(lab.Directory, "render-timed");
        string ctl = Path.Combine(RepoPaths.Root, "artifacts", "bin", "Respaldo.Ctl", "release", "respaldoctl.dll");
        long start = Stopwatch.GetTimestamp();
        ProcessRunner.Result render = await ProcessRunner.RunAsync("dotnet", [ctl, "render", "--config", lab["CONFIG"], "--out", fresh], timeout: TimeSpan.FromMinutes(30));
        _render = Stopwatch.GetElapsedTime(start).TotalSeconds;
        if (render.ExitCode != 0)
        {
            throw new InvalidOperationException($"respaldoctl render failed: {render}");
        }
        start = Stopwatch.GetTimestamp();
        ProcessRunner.Result reload = await ProcessRunner.RunAsync("postfix", ["-c", lab["BACKUP_POSTFIX"], "reload"]);
        _reload = Stopwatch.GetElapsedTime(start).TotalSeconds;
        if (reload.ExitCode != 0)
        {
            throw new InvalidOperationException($"postfix reload failed: {reload}");
        }
        // The first SMTP transaction after the reload: a fresh smtpd loads every map again (the
        // texthash of all mailboxes among them).
        start = Stopwatch.GetTimestamp();
        await SmtpSource.SendAsync(lab.BackupSmtp, [_plan.Mailboxes[^1]], 1, options.MessageSize, sessionsEach: 1);
        double firstMail = Stopwatch.GetElapsedTime(start).TotalSeconds;
        string dovecot = Path.Combine(lab["RENDERED"], "dovecot", "dovecot.conf");
        start = Stopwatch.GetTimestamp();
        ProcessRunner.Result user = await ProcessRunner.RunAsync("doveadm", ["-c", dovecot, "user", _plan.Mailboxes[^1]]);
        double lookup = Stopwatch.GetElapsedTime(start).TotalSeconds;
        // Note: every scale mailbox must be in both lists; a cut list (Scriban's output limit once
        // did it) makes Postfix refuse the rest as unknown, and the run would measure nonsense.
        foreach (string list in new[] { Path.Combine("postfix", "virtual_mailboxes"), Path.Combine("dovecot", "users") })
        {
            int listed = File.ReadLines(Path.Combine(fresh, list)).Count(l => l.Contains(ScaleTenants.DomainSuffix, StringComparison.Ordinal));
            if (listed < options.Mailboxes)
            {
                throw new InvalidOperationException($"respaldoctl render listed {listed} of the {options.Mailboxes} scale mailboxes in {list}");
            }
        }
        long users = new FileInfo(Path.Combine(fresh, "dovecot", "users")).Length;
        long mailboxes = new FileInfo(Path.Combine(fresh, "postfix", "virtual_mailboxes")).Length;
        Directory.Delete(fresh, recursive: true);
        await WaitUntilAsync(() => CountNew([_plan.Mailboxes[^1]]) == 1, TimeSpan.FromMilliseconds(200), TimeSpan.FromMinutes(2),
            () => $"the message to {_plan.Mailboxes[^1]} after the reload was not stored (doveadm user: {user})");
        foreach (string stored in Directory.GetFiles(MaildirFiller.MaildirOf(Maildirs, _plan.Mailboxes[^1], "new")))
        {
            File.Delete(stored);
        }
        _report.Note($"configuration: {options.Tenants + 2} tenants, {options.Mailboxes + 5} mailboxes (Postfix virtual_mailboxes {Mib(mailboxes):0.0} MiB texthash, Dovecot userdb passwd-file {Mib(users):0.0} MiB)");
        _report.Row("respaldoctl render (a fresh directory; dotnet start included)", $"{_render:0.00} s");
        _report.Row("postfix reload of the backup (the command; smtpd re-reads maps lazily)", $"{_reload:0.00} s");
        _report.Row("first message after the reload, smtp-source until 250", $"{firstMail:0.00} s");
        _report.Row("Dovecot userdb lookup (doveadm user, last mailbox of the file)", $"{lookup * 1000:0} ms", user.ExitCode == 0 ? "found" : "NOT FOUND");
    }

    /// <summary>
    /// Destroys the lab (or keeps it with BENCH_KEEP=1). Note: called after the table is printed:
    /// removing a million files on each side takes minutes.
    /// </summary>
    public async Task TearDownAsync()
    {
        if (options.Keep)
        {
            say($"kept: LAB_DIR={lab.Directory} LAB_PORT_BASE={lab.PortBase} deploy/lab/lab status | destroy");
            return;
        }
        await lab.RunAsync("destroy", check: false, timeout: DestroyTimeout);
    }

    // Note: 'lab destroy' removes every stored file on both sides; two million small files on a
    // busy disk take many minutes, far past the lab script's usual two.
    private static readonly TimeSpan DestroyTimeout = TimeSpan.FromMinutes(60);

    // ---- nothing waiting ------------------------------------------------------------------

    private async Task NothingWaitingAsync()
    {
        double ready = await StartControllerAsync();
        // Note: with the controller running: the message sent after the reload needs the policy service.
        await RenderAsync();
        _report.Note("");
        _report.Note($"nothing waiting ({options.Mailboxes} empty maildirs), the primary down");
        _report.Row("controller start -> first full scan logged (1104, index loaded)", $"{ready:0.0} s");
        ProcessMeter controller = await SettledControllerAsync();
        _rss0 = controller.RssBytes;
        _idle0 = await IdleAsync(controller);
        _report.Row(IdleLabel, $"{_idle0:0.00} % of a core", $"RSS {Mib(_rss0):0.0} MiB", "< 1 %", _idle0 < 1);
        PolicyLatency rcpt = await PolicyTiming.MeasureAsync(lab["POLICY_SOCKET"], _plan.Mailboxes, options.RcptRequests, _cancel);
        _p99At0 = rcpt.P99;
        _report.Row("policy RCPT (policy socket, delegation protocol)", rcpt.Summary, rcpt.ActionSummary);
        (double scan, double cpu) = await RescanAsync(controller);
        _report.Row("full rescan (requested by a reload that changes the tenant map)", $"{scan:0.00} s, {cpu:0.00} s CPU");
        WatchesRow(controller);
        _intake0 = await IntakeAsync();
        _report.Row($"SMTP intake, {options.SmtpSlice} messages (smtp-source, 20 sessions, until stored)", $"{_intake0:0} msg/s");
    }

    private long _rss0;
    private double _intake0;

    // ---- the backlog ------------------------------------------------------------------------

    private async Task FillAsync()
    {
        await StopControllerAsync();
        MaildirFiller filler = _filler ?? throw new InvalidOperationException("no sample yet");
        say($"filling {options.Messages:N0} messages into {options.Mailboxes:N0} maildirs ...");
        long start = Stopwatch.GetTimestamp();
        long bytes = filler.Fill(_plan.Mailboxes, options.Messages, say);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        // Note: the slice sent over SMTP with nothing waiting is waiting too.
        _expected = options.Messages + options.SmtpSlice;
        _report.Note("");
        _report.Note($"{options.Messages:N0} waiting (+{options.SmtpSlice} from the SMTP slice), the primary down");
        _report.Row("fill: written as Dovecot's LMTP leaves them (controller stopped)",
            string.Create(CultureInfo.InvariantCulture, $"{seconds:0} s ({options.Messages / seconds:0} msg/s, {Mib(bytes):0} MiB)"));
    }

    private async Task WaitingAsync()
    {
        double ready = await StartControllerAsync();
        _readyAtW = ready;
        _report.Row("controller start -> first full scan logged (1104, index loaded)", $"{ready:0.0} s");
        ProcessMeter controller = await SettledControllerAsync();
        long rss = controller.RssBytes;
        _bytesPerMessage = (double)(rss - _rss0) / _expected;
        _report.Row("resident memory per waiting message ((RSS at W - RSS at 0) / waiting)", $"{_bytesPerMessage:0} bytes",
            $"RSS {Mib(rss):0} MiB against {Mib(_rss0):0} MiB", "<= 300 bytes", _bytesPerMessage <= 300);
        _idleW = await IdleAsync(controller);
        _report.Row(IdleLabel, $"{_idleW:0.00} % of a core", $"{_idle0:0.00} % at 0");
        PolicyLatency rcpt = await PolicyTiming.MeasureAsync(lab["POLICY_SOCKET"], _plan.Mailboxes, options.RcptRequests, _cancel);
        _p99AtW = rcpt.P99;
        _report.Row("policy RCPT (policy socket, delegation protocol)", rcpt.Summary,
            string.Create(CultureInfo.InvariantCulture, $"p99 {_p99At0:0.000} ms at 0; {rcpt.ActionSummary}"), "p99 <= 2x at 0", _p99AtW <= 2 * _p99At0);
        (double scan, double cpu) = await RescanAsync(controller);
        _rescanAtW = scan;
        _rescanCpuAtW = cpu;
        _report.Row("full rescan (requested by a reload that changes the tenant map)", $"{scan:0.00} s, {cpu:0.00} s CPU");
        WatchesRow(controller);
        double intake = await IntakeAsync();
        _expected += options.SmtpSlice;
        _report.Row($"SMTP intake, {options.SmtpSlice} messages (smtp-source, 20 sessions, until stored)", $"{intake:0} msg/s", $"{_intake0:0} msg/s at 0");
    }

    // ---- the hand-over ----------------------------------------------------------------------

    private async Task HandOverAsync()
    {
        await StopControllerAsync();
        await lab.RunAsync("primary-up");
        _report.Note("");
        _report.Note($"the primary is back; the controller starts with {_expected:N0} waiting");
        DateTimeOffset startWall = DateTimeOffset.UtcNow;
        long start = Stopwatch.GetTimestamp();
        double ready = await StartControllerAsync();
        _report.Row("controller start -> first full scan logged (1104, index loaded)", $"{ready:0.0} s");
        string journal = lab["JOURNAL"];
        long since = startWall.ToUnixTimeMilliseconds();
        long? first = null;
        await WaitUntilAsync(() => (first = FirstDelivered(journal, since)) is not null, TimeSpan.FromMilliseconds(250), options.PhaseTimeout,
            () => "no message was handed over");
        _firstHandOver = (first!.Value - since) / 1000.0;
        _report.Row("controller start -> first message handed over (journal, delivered)", $"{_firstHandOver:0.0} s", "", "<= 60 s", _firstHandOver <= 60);

        say($"hand-over of {_expected:N0} messages ...");
        int delivered = 0;
        int lastReported = 0;
        DateTime stalledSince = DateTime.UtcNow;
        TimeSpan stall = TimeSpan.FromMinutes(10);
        while (Stopwatch.GetElapsedTime(start) < options.PhaseTimeout)
        {
            await Task.Delay(TimeSpan.FromSeconds(5), _cancel);
            int now = CountDelivered(journal, since);
            if (now > delivered)
            {
                stalledSince = DateTime.UtcNow;
            }
            delivered = now;
            if (delivered >= _expected || DateTime.UtcNow - stalledSince > stall)
            {
                break;
            }
            if (delivered - lastReported >= Math.Max(_expected / 10, 1))
            {
                lastReported = delivered;
                say(string.Create(CultureInfo.InvariantCulture, $"  {delivered:N0} of {_expected:N0} handed over ({Stopwatch.GetElapsedTime(start).TotalSeconds:0} s)"));
            }
        }
        List<long> times = DeliveredTimes(journal, since);
        int tenth = Math.Max(times.Count / 10, 2);
        if (times.Count >= 2 * tenth)
        {
            _first10 = (tenth - 1) / Math.Max((times[tenth - 1] - times[0]) / 1000.0, 1e-3);
            _last10 = (tenth - 1) / Math.Max((times[^1] - times[^tenth]) / 1000.0, 1e-3);
        }
        double total = times.Count >= 2 ? (times[^1] - times[0]) / 1000.0 : 0;
        string complete = times.Count >= _expected ? "" : $" (INCOMPLETE: {times.Count:N0} of {_expected:N0})";
        _report.Row($"hand-over rate, first 10 % ({tenth:N0} messages)", $"{_first10:0} msg/s");
        _report.Row($"hand-over rate, last 10 %{complete}", $"{_last10:0} msg/s", $"{_first10:0} msg/s first", ">= 0.8x first", _last10 >= 0.8 * _first10);
        _report.Row("hand-over, all", string.Create(CultureInfo.InvariantCulture, $"{times.Count:N0} in {total:0} s ({times.Count / Math.Max(total, 1e-3):0} msg/s)"));
        ShapeRows(journal, since, times);
        _journalBytes = new[] { "", "-wal", "-shm" }.Select(s => journal + s).Where(File.Exists).Sum(f => new FileInfo(f).Length);
        _report.Row("journal size after the hand-over (sqlite + wal)", $"{Mib(_journalBytes):0.0} MiB",
            string.Create(CultureInfo.InvariantCulture, $"{_journalBytes / Math.Max(times.Count, 1):0} bytes per message handed over"));
        if (times.Count < _expected)
        {
            throw new TimeoutException($"only {times.Count} of {_expected} messages were handed over");
        }
    }

    /// <summary>
    /// What the first and last 10 % are made of (issue 14): when the tenants began and ended their
    /// hand-over, and the rate while every tenant still had mail. All tenants share the lab's one
    /// primary, so each tenant that is done takes its connections away from it; a tail that slows
    /// only because fewer tenants remain is told apart from one in which each hand-over slows.
    /// </summary>
    private void ShapeRows(string journal, long since, List<long> times)
    {
        List<(long First, long Last)> tenants = TenantSpans(journal, since);
        if (tenants.Count < 2 || times.Count < 2)
        {
            return;
        }
        long t0 = times[0];
        long allIn = tenants.Max(t => t.First);
        long firstOut = tenants.Min(t => t.Last);
        long lastTenth = times[^Math.Max(times.Count / 10, 2)];
        string S(long at) => string.Create(CultureInfo.InvariantCulture, $"{(at - t0) / 1000.0:0.0}");
        int during = allIn < firstOut ? times.Count(t => t >= allIn && t <= firstOut) : 0;
        double rate = allIn < firstOut ? during / Math.Max((firstOut - allIn) / 1000.0, 1e-3) : 0;
        _report.Row("hand-over, while every tenant had mail left", allIn < firstOut ? $"{rate:0} msg/s ({S(allIn)}..{S(firstOut)} s)" : "never all at once",
            $"tenants began {S(tenants.Min(t => t.First))}..{S(allIn)} s, ended {S(firstOut)}..{S(tenants.Max(t => t.Last))} s; last 10 % from {S(lastTenth)} s");
    }

    private static List<(long First, long Last)> TenantSpans(string journal, long since)
    {
        using SqliteConnection c = OpenJournal(journal);
        using SqliteCommand q = c.CreateCommand();
        q.CommandText = "SELECT min(at), max(at) FROM handovers WHERE outcome = 'delivered' AND at >= $s GROUP BY tenant";
        q.Parameters.AddWithValue("$s", since);
        var spans = new List<(long, long)>();
        using SqliteDataReader r = q.ExecuteReader();
        while (r.Read())
        {
            spans.Add((r.GetInt64(0), r.GetInt64(1)));
        }
        return spans;
    }

    // ---- measurements ---------------------------------------------------------------------

    private async Task<double> IdleAsync(ProcessMeter controller)
    {
        say($"{options.Idle.TotalSeconds:0} idle seconds ...");
        Log.Mark();
        TimeSpan before = controller.CpuTime;
        long start = Stopwatch.GetTimestamp();
        await Task.Delay(options.Idle, _cancel);
        TimeSpan used = controller.CpuTime - before;
        int scans = Log.Since().Count(l => l.EventId == 1104);
        if (scans > 0)
        {
            say($"  ({scans} periodic full scan(s) ran in the idle window)");
        }
        return used.TotalSeconds / Stopwatch.GetElapsedTime(start).TotalSeconds * 100;
    }

    /// <summary>
    /// A full scan on request: the configuration's tenant map changes (one domain more or less
    /// for the last tenant) and a SIGHUP reloads it; the supervisor logs 1011 and asks the watcher
    /// for a full scan, which logs 1104 when done. Time between the two lines' timestamps; CPU
    /// between seeing the one and seeing the other (the log is polled every 20 ms).
    /// </summary>
    private async Task<(double Seconds, double Cpu)> RescanAsync(ProcessMeter controller)
    {
        say("full rescan ...");
        ScaleTenants.ToggleExtraDomain(lab["CONFIG"]);
        Log.Mark();
        await ProcessRunner.RunAsync("kill", ["-HUP", controller.Pid.ToString(CultureInfo.InvariantCulture)]);
        TimeSpan poll = TimeSpan.FromMilliseconds(20);
        LogLine asked = await Log.WaitForAsync(1011, null, TimeSpan.FromMinutes(5), poll, _cancel);
        TimeSpan cpu = controller.CpuTime;
        LogLine done = await Log.WaitForAsync(1104, "(requested)", options.PhaseTimeout, poll, _cancel);
        double used = (controller.CpuTime - cpu).TotalSeconds;
        return ((done.At - asked.At).TotalSeconds, used);
    }

    private void WatchesRow(ProcessMeter controller)
    {
        InotifyWatches w = InotifyWatches.Count(controller.Pid, Maildirs);
        _watches = w;
        List<LogLine> problems = Log.Since().Concat(_startLines).Where(l => l.EventId is 1101 or 1102 or 1105 or 1106).ToList();
        string what = problems.Count == 0
            ? "no inotify warning logged"
            : $"{problems.Count} x [{problems[0].EventId}] {problems[0].Text}";
        _report.Row("inotify: maildir watches / maildir directories / max_user_watches",
            $"{w.MaildirWatches:N0} / {w.Directories:N0} / {w.Limit:N0}", $"{w.AllWatches:N0} watches in all; {what}", "one per directory", w.MaildirWatches >= w.Directories);
    }

    private IReadOnlyList<LogLine> _startLines = [];

    private async Task<double> IntakeAsync()
    {
        say($"SMTP intake of {options.SmtpSlice} messages ...");
        int before = CountNew(_slice);
        long start = Stopwatch.GetTimestamp();
        await SmtpSource.SendAsync(lab.BackupSmtp, _slice, options.SmtpSlice, options.MessageSize, sessionsEach: 2);
        await WaitUntilAsync(() => CountNew(_slice) >= before + options.SmtpSlice, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(30),
            () => $"{CountNew(_slice) - before} of {options.SmtpSlice} stored");
        return options.SmtpSlice / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    // ---- the controller -------------------------------------------------------------------

    /// <summary>Starts the controller through the lab and returns the seconds until its first full scan was logged.</summary>
    private DateTime _controllerStarted;

    private string IdleLabel => string.Create(CultureInfo.InvariantCulture,
        $"idle CPU, {options.Idle.TotalSeconds:0} s (from {options.WarmUp.TotalSeconds:0} s after the start at the soonest)");

    private async Task<double> StartControllerAsync()
    {
        Log.Mark();
        DateTime start = DateTime.UtcNow;
        _controllerStarted = start;
        // Note: the lab waits 10 s for the web port and then gives up on waiting (the controller
        // keeps running); with a large backlog the start-up scan may come first. It does not wait
        // for the first full scan (LAB_SCAN_WAIT=0, BenchLab): that is timed here.
        await lab.RunAsync("controller-start", check: false);
        if (!File.Exists(lab["CONTROLLER_PIDFILE"]) || !Alive(lab.ControllerPid))
        {
            throw new InvalidOperationException($"the controller did not start (log: {lab["LOGS"]}/controller.log)");
        }
        LogLine scanned = await Log.WaitForAsync(1104, "(at start)", options.PhaseTimeout, TimeSpan.FromMilliseconds(50), _cancel);
        _startLines = Log.Since();
        return (scanned.At - start).TotalSeconds;
    }

    /// <summary>The controller, once its start-up work has settled (its CPU quiet for a moment, or 60 s at most).</summary>
    private async Task<ProcessMeter> SettledControllerAsync()
    {
        ProcessMeter controller = await ProcessMeter.OpenAsync(lab.ControllerPid);
        TimeSpan left = options.WarmUp - (DateTime.UtcNow - _controllerStarted);
        if (left > TimeSpan.Zero)
        {
            say($"  {left.TotalSeconds:0} s more for the runtime's warm-up (BENCH_SCALE_WARMUP_SECONDS) ...");
            await Task.Delay(left, _cancel);
        }
        for (int i = 0; i < 30; i++)
        {
            TimeSpan before = controller.CpuTime;
            await Task.Delay(TimeSpan.FromSeconds(2), _cancel);
            if ((controller.CpuTime - before).TotalSeconds < 0.1)
            {
                break;
            }
        }
        return controller;
    }

    private async Task StopControllerAsync()
    {
        if (!File.Exists(lab["CONTROLLER_PIDFILE"]))
        {
            return;
        }
        int pid = lab.ControllerPid;
        await ProcessRunner.RunAsync("kill", ["-TERM", pid.ToString(CultureInfo.InvariantCulture)]);
        await WaitUntilAsync(() => !Alive(pid), TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(2), () => $"the controller (pid {pid}) does not stop");
    }

    private static bool Alive(int pid) => File.Exists($"/proc/{pid}/status");

    // ---- helpers --------------------------------------------------------------------------

    private int CountNew(IReadOnlyList<string> mailboxes) =>
        mailboxes.Sum(m => Directory.Exists(MaildirFiller.MaildirOf(Maildirs, m, "new")) ? Directory.GetFiles(MaildirFiller.MaildirOf(Maildirs, m, "new")).Length : 0);

    private static SqliteConnection OpenJournal(string path)
    {
        var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly }.ToString());
        c.Open();
        return c;
    }

    private static long? FirstDelivered(string journal, long since)
    {
        using SqliteConnection c = OpenJournal(journal);
        using SqliteCommand q = c.CreateCommand();
        q.CommandText = "SELECT min(at) FROM handovers WHERE outcome = 'delivered' AND at >= $s";
        q.Parameters.AddWithValue("$s", since);
        return q.ExecuteScalar() is long at ? at : null;
    }

    private static int CountDelivered(string journal, long since)
    {
        using SqliteConnection c = OpenJournal(journal);
        using SqliteCommand q = c.CreateCommand();
        q.CommandText = "SELECT count(*) FROM handovers WHERE outcome = 'delivered' AND at >= $s";
        q.Parameters.AddWithValue("$s", since);
        return Convert.ToInt32(q.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static List<long> DeliveredTimes(string journal, long since)
    {
        using SqliteConnection c = OpenJournal(journal);
        using SqliteCommand q = c.CreateCommand();
        q.CommandText = "SELECT at FROM handovers WHERE outcome = 'delivered' AND at >= $s ORDER BY at";
        q.Parameters.AddWithValue("$s", since);
        var times = new List<long>();
        using SqliteDataReader r = q.ExecuteReader();
        while (r.Read())
        {
            times.Add(r.GetInt64(0));
        }
        return times;
    }

    private async Task WaitUntilAsync(Func<bool> condition, TimeSpan poll, TimeSpan timeout, Func<string> why)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"after {timeout.TotalSeconds:0} s: {why()}");
            }
            await Task.Delay(poll, _cancel);
        }
    }

    private static double Mib(long bytes) => bytes / (1024.0 * 1024.0);
}
