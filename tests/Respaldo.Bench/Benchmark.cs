using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Respaldo.Bench.Scale;
using Respaldo.Configuration;
using Respaldo.Primary;
using Respaldo.Tests.Lab;

namespace Respaldo.Bench;

/// <summary>
/// Issue 3's benchmark, phase by phase, on one machine in one run:
/// (e) idle CPU with many empty mailboxes; an outage that fills Respaldo and a relay-mode
/// Postfix with the same messages; (a)+(b) the lab's real Postfix primary returns: Respaldo
/// hands over, then Postfix's own queue is flushed into the same primary; (c) the same into an
/// smtp-sink primary, with smtp-source's push into that sink as the machine's limit; (d) the
/// controller's peak RSS while it hands over one large message.
/// </summary>
public sealed class Benchmark(BenchOptions options, BenchLab lab, Action<string> say)
{
    private readonly Report _report = new();
    private RelayBackup? _relay;
    private SmtpSink? _sink;

    private IReadOnlyList<string> _recipients = [];
    private IReadOnlyList<string> _domains = [];
    private string _tenant = "";
    private RespaldoSettings? _settings;
    private ProcessMeter? _controller;
    private CancellationToken _cancel;

    // The figures of the last line.
    private double _idleCpu;
    private double _first;
    private double _last;
    private double _realRatio;
    private double _sinkVsPostfix;
    private double _sinkVsSource;
    private long _rssAdded;
    private double _largeMib;
    private double _intakeRatio;
    private long _rspamdPss;
    private double _cpuRespaldo;
    private double _cpuSource;
    private double _cpuSinkRespaldo;
    private double _cpuSinkSource;

    private TimeSpan PhaseTimeout => options.PhaseTimeout;

    private RespaldoSettings Settings => _settings ?? throw new InvalidOperationException("no settings yet");

    private ProcessMeter Controller => _controller ?? throw new InvalidOperationException("no controller yet");

    private RelayBackup Relay => _relay ?? throw new InvalidOperationException("no relay yet");

    private int Connections => Settings.Tenants[0].Primary.Connections;

    public async Task<Report> RunAsync(CancellationToken cancellationToken)
    {
        _cancel = cancellationToken;
        try
        {
            await SetUpAsync();
            await IdleAsync();
            await RealPrimaryAsync();
            await SinkPrimaryAsync();
            await LargeMessageAsync();
            await IntakeAsync();
            return _report;
        }
        finally
        {
            await TearDownAsync();
        }
    }

    // ---- set-up -------------------------------------------------------------------------

    private async Task SetUpAsync()
    {
        say($"lab in {lab.Directory}, ports {lab.PortBase}+ (LAB-NOTES: no systemd, no DNS, loopback only)");
        if (Directory.Exists(lab.Directory))
        {
            // A run that was killed may have left its lab, and its relay-mode Postfix, running.
            string leftRelay = Path.Combine(lab.Directory, "relay", "config");
            if (File.Exists(Path.Combine(leftRelay, "main.cf")))
            {
                await ProcessRunner.RunAsync("postfix", ["-c", leftRelay, "stop"]);
            }
            await lab.RunAsync("destroy", check: false);
        }
        await lab.RunAsync("config");
        IReadOnlyList<string> empty = lab.AddMailboxes(options.EmptyMailboxes);
        await lab.RunAsync("up");
        (_recipients, IReadOnlyList<string> leftOut) = await lab.SampleMailboxesAsync();
        say($"mail goes to {string.Join(", ", _recipients)}" +
            (leftOut.Count > 0 ? $" (not to {string.Join(", ", leftOut)}: the lab's primary has no such mailbox)" : ""));

        (RespaldoSettings? settings, IReadOnlyList<ConfigurationError> errors) = ConfigurationLoader.TryLoad(lab["CONFIG"]);
        _settings = settings ?? throw new InvalidOperationException($"the lab's configuration is invalid: {string.Join("; ", errors)}");
        _tenant = Settings.Tenants[0].Id;
        JsonNode config = JsonNode.Parse(await File.ReadAllTextAsync(lab["CONFIG"]))!;
        _domains = config["tenants"]![0]!["domains"]!.AsArray()
            .Select(d => d!.GetValue<string>().TrimStart('*', '.')).Distinct(StringComparer.Ordinal).ToList();

        // Note: Dovecot itself makes the empty mailboxes, as it would for an address that has
        // had mail: maildir, index and uidlist files, nothing in new/ or cur/.
        ProcessRunner.Result made = await ProcessRunner.RunAsync("doveadm",
            ["-c", Path.Combine(lab["RENDERED"], "dovecot", "dovecot.conf"), "mailbox", "status", "-A", "messages", "INBOX"]);
        if (made.ExitCode != 0)
        {
            throw new InvalidOperationException($"doveadm could not create the mailboxes: {made}");
        }
        int maildirs = Directory.EnumerateDirectories(lab["BACKUP_MAILDIRS"]).SelectMany(Directory.EnumerateDirectories).Count();
        if (maildirs < empty.Count + _recipients.Count + leftOut.Count)
        {
            throw new InvalidOperationException($"{maildirs} maildirs under {lab["BACKUP_MAILDIRS"]}, expected {empty.Count + _recipients.Count + leftOut.Count}");
        }
        _controller = await ProcessMeter.OpenAsync(lab.ControllerPid);
        _relay = await RelayBackup.CreateAsync(new RelayBackupOptions
        {
            Directory = Path.Combine(lab.Directory, "relay"),
            Port = lab.RelayPort,
            Primary = lab.PrimarySmtp,
            Hostname = "relay-backup.bench.test",
            Domains = _domains,
            Recipients = _recipients,
        });
        say($"{maildirs} mailboxes, controller pid {Controller.Pid}; probe interval {Settings.Controller.ProbeInterval.TotalSeconds:0.#} s " +
            $"growing to {Settings.Controller.ProbeIntervalMax.TotalSeconds:0.#} s, {Connections} connections to the primary");
    }

    private async Task TearDownAsync()
    {
        if (_sink is not null)
        {
            await _sink.DisposeAsync();
        }
        if (_relay is not null)
        {
            await _relay.StopAsync();
        }
        if (options.Keep)
        {
            say($"kept: LAB_DIR={lab.Directory} deploy/lab/lab status | destroy (relay: postfix -c {_relay?.ConfigDirectory})");
            return;
        }
        await lab.RunAsync("destroy", check: false);
    }

    // ---- (e) idle ----------------------------------------------------------------------

    private async Task IdleAsync()
    {
        // Let the start-up scan and the inotify watches of the new maildirs settle first.
        await Task.Delay(TimeSpan.FromSeconds(10), _cancel);
        int mailboxes = Directory.EnumerateDirectories(lab["BACKUP_MAILDIRS"]).SelectMany(Directory.EnumerateDirectories).Count();
        say($"(e) {options.Idle.TotalSeconds:0} idle seconds with {mailboxes} empty mailboxes ...");
        TimeSpan before = Controller.CpuTime;
        long start = Stopwatch.GetTimestamp();
        await Task.Delay(options.Idle, _cancel);
        TimeSpan used = Controller.CpuTime - before;
        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        _idleCpu = used.TotalSeconds / elapsed.TotalSeconds * 100;
        long idleRss = Controller.RssBytes;
        _report.Note("");
        _report.Row($"(e) controller CPU, {elapsed.TotalSeconds:0} s idle, {mailboxes} empty mailboxes",
            $"{_idleCpu:0.00} % of a core ({used.TotalMilliseconds:0} ms)", $"RSS {Mib(idleRss):0.0} MiB", "< 1 %", _idleCpu < 1);
    }

    // ---- the outage: both backups take the same mail ------------------------------------

    private async Task OutageAsync(string what)
    {
        say($"outage ({what} down): {options.Messages} messages of {options.MessageSize} bytes into Respaldo and into the relay-mode Postfix ...");
        await Relay.StartAsync();
        long start = Stopwatch.GetTimestamp();
        await Task.WhenAll(
            SmtpSource.SendAsync(lab.BackupSmtp, _recipients, options.Messages, options.MessageSize, sessionsEach: 2),
            SmtpSource.SendAsync(Relay.Smtp, _recipients, options.Messages, options.MessageSize, sessionsEach: 2));
        await WaitUntilAsync(() => MaildirWatch.Count(lab["BACKUP_MAILDIRS"]) >= options.Messages, TimeSpan.FromSeconds(1),
            () => $"Respaldo stored {MaildirWatch.Count(lab["BACKUP_MAILDIRS"])} of {options.Messages}");
        await WaitUntilAsync(() => Relay.QueueCounts() == (options.Messages, 0), TimeSpan.FromSeconds(1),
            () => $"the relay-mode Postfix has {Relay.QueueCounts()} (deferred, in flight) of {options.Messages}");
        int stored = MaildirWatch.Count(lab["BACKUP_MAILDIRS"]);
        if (stored != options.Messages)
        {
            throw new InvalidOperationException($"Respaldo stored {stored} messages, expected {options.Messages}");
        }
        // Note: stopped, the relay cannot retry on its own while Respaldo is measured; its
        // deferred mail would wait 300 s or more anyway (minimal_backoff_time).
        await Relay.StopAsync();
        say($"  both hold {options.Messages} messages ({Stopwatch.GetElapsedTime(start).TotalSeconds:0} s to fill)");
    }

    // ---- (a) and (b): the lab's real Postfix primary ------------------------------------

    /// <summary>
    /// (a) and (b), <see cref="BenchOptions.RealRuns"/> times: each round an outage fills both
    /// backups, Respaldo hands over, then Postfix's queue is flushed into the same primary, so
    /// the two rates of a round are measured seconds apart, under the same neighbours. The rate
    /// row is the round of median ratio; the rows of (a) are the first round's (the first
    /// hand-over after a start, the probe back-off of a first outage).
    /// </summary>
    private async Task RealPrimaryAsync()
    {
        var rounds = new List<RealRound>();
        for (int run = 1; run <= options.RealRuns; run++)
        {
            rounds.Add(await RealPrimaryRoundAsync(run));
            if (options.RealRuns > 1)
            {
                RealRound r = rounds[^1];
                say(string.Create(CultureInfo.InvariantCulture,
                    $"(b)   run {run} of {options.RealRuns}: Respaldo {r.Respaldo:0} msg/s, postqueue -f {r.Postfix:0} msg/s ({r.Ratio:0.00}x)"));
            }
        }
        RealRound median = Median(rounds, r => r.Ratio);
        _realRatio = median.Ratio;
        string runs = rounds.Count == 1 ? "" : $" (median of {rounds.Count} runs: {string.Join(" / ", rounds.Select(r => r.Ratio.ToString("0.00", CultureInfo.InvariantCulture)))}x)";
        _report.Row($"(b) hand-over rate into the real primary (first -> last){(rounds.Count == 1 ? "" : ", median run")}", $"{median.Respaldo:0} msg/s",
            $"postqueue -f: {median.Postfix:0} msg/s (flush -> first {median.FlushToFirst:0.0} s)", ">= 2x", _realRatio >= 2.0);
        _report.Row($"    ratio Respaldo / Postfix{runs}", $"{_realRatio:0.00}x");
        _report.Row("    CPU per 1,000 messages: respaldod, hand-over into the real primary", $"{median.RespaldoCpu.TotalSeconds * 1000 / options.Messages:0.00} s",
            "first -> last of the median run");
        ReportDuplicates("real primary", rounds.Sum(r => r.Duplicates), rounds.Sum(r => r.FlushDuplicates));
    }

    /// <summary>One round of (a) and (b): both rates, respaldod's CPU between its first and last message at the primary.</summary>
    private sealed record RealRound(double Respaldo, double Postfix, double FlushToFirst, TimeSpan RespaldoCpu, int Duplicates, int FlushDuplicates)
    {
        public double Ratio => Respaldo / Postfix;
    }

    private async Task<RealRound> RealPrimaryRoundAsync(int run)
    {
        await lab.RunAsync("primary-down");
        await OutageAsync("the real primary");
        string primaryMaildirs = lab["PRIMARY_MAILDIRS"];
        MaildirWatch.Empty(primaryMaildirs);

        say("(a) the real primary comes back; Respaldo hands over ...");
        long back;
        DateTimeOffset backWall;
        (long first, long last) times;
        TimeSpan cpu;
        await using (MaildirWatch watch = MaildirWatch.Start(primaryMaildirs, options.Messages))
        {
            Task<long> open = PortWatch.WaitOpenAsync(lab.PrimarySmtp, TimeSpan.FromMinutes(1), _cancel);
            await lab.RunAsync("primary-up");
            back = await open;
            backWall = WallClock(back);
            await UnlessHeldAsync(token => watch.WaitFirstAsync(PhaseTimeout, token));
            TimeSpan cpuAtFirst = Controller.CpuTime;
            times = await UnlessHeldAsync(token => watch.WaitAsync(PhaseTimeout, token));
            cpu = Controller.CpuTime - cpuAtFirst;
        }
        await WaitBackupEmptyAsync();
        await WaitPrimaryQueueEmptyAsync();
        int duplicates = MaildirWatch.Count(primaryMaildirs) - options.Messages;
        double respaldoRate = Rate(times.first, times.last);

        say("(b) Postfix's own queue: postqueue -f into the same primary ...");
        MaildirWatch.Empty(primaryMaildirs);
        (long first, long last) flush;
        long flushStart;
        await using (MaildirWatch watch = MaildirWatch.Start(primaryMaildirs, options.Messages))
        {
            flushStart = Stopwatch.GetTimestamp();
            await Relay.StartAsync();
            await Relay.FlushAsync();
            flush = await watch.WaitAsync(PhaseTimeout, _cancel);
        }
        await WaitUntilAsync(() => Relay.QueueCounts() == (0, 0), TimeSpan.FromMilliseconds(200), () => $"relay queue {Relay.QueueCounts()}");
        await WaitPrimaryQueueEmptyAsync();
        int flushDuplicates = MaildirWatch.Count(primaryMaildirs) - options.Messages;
        var round = new RealRound(respaldoRate, Rate(flush.first, flush.last), Seconds(flushStart, flush.first), cpu, duplicates, flushDuplicates);
        if (run > 1)
        {
            return round;
        }

        ProbeHistory? probes = ProbeHistory.Read(lab["JOURNAL"], _tenant, backWall);
        _first = Seconds(back, times.first);
        _last = Seconds(back, times.last);
        _report.Note($"{options.Messages} messages of {options.MessageSize / 1024} KB waiting; the lab's real Postfix primary (virtual(8) into maildirs) comes back");
        _report.Row("(a) primary accepts connections -> first message at the primary", $"{_first:0.0} s",
            "Postfix queue: next retry 300-4,000 s; customer's plan: 1,800 s", "<= 5 s", _first <= 5);
        _report.Row("(a) primary accepts connections -> last message at the primary", $"{_last:0.0} s");
        if (probes is not null)
        {
            TimeSpan scheduled = ProbeSchedule.Next(probes.FailedProbes, Settings.Controller.ProbeInterval, Settings.Controller.ProbeIntervalMax);
            _report.Row("    probe interval in effect when it came back",
                $"{probes.Interval.TotalSeconds:0.0} s",
                $"{probes.FailedProbes} failed probes over {probes.Outage.TotalSeconds:0} s; schedule {scheduled.TotalSeconds:0.0} s, ceiling {Settings.Controller.ProbeIntervalMax.TotalSeconds:0} s");
            _report.Row("    successful probe -> first message at the primary", $"{(WallClock(times.first) - probes.Up).TotalSeconds:0.00} s");
            if (_first > 5 && probes.Interval.TotalSeconds > 5)
            {
                _report.Note($"    note: (a) waited for the next probe, {probes.Interval.TotalSeconds:0} s after the last failed one (the back-off; on average half the interval).");
                _report.Note("          Within 5 s needs probes at most 5 s apart while mail waits: controller.probeIntervalMaxSeconds <= 5, or no back-off");
                _report.Note("          while the primary refuses connections outright (a refused connect costs neither side anything).");
            }
        }
        return round;
    }

    // ---- (c): an smtp-sink primary --------------------------------------------------------

    private async Task SinkPrimaryAsync()
    {
        await lab.RunAsync("primary-down");
        await OutageAsync("the primary");
        // Note: the reference's backlogs are copies of a message Dovecot really stored (read now: it is handed over next).
        string sampleDir = MaildirFiller.MaildirOf(lab["BACKUP_MAILDIRS"], _recipients[0], "new");
        MaildirFiller filler = MaildirFiller.FromFile(lab["BACKUP_MAILDIRS"], _recipients[0],
            Directory.EnumerateFiles(sampleDir).FirstOrDefault() ?? throw new InvalidOperationException($"no stored message in {sampleDir} to copy"));

        say("(c) an smtp-sink primary comes up; Respaldo hands over ...");
        Task<long> open = PortWatch.WaitOpenAsync(lab.PrimarySmtp, TimeSpan.FromMinutes(1), _cancel);
        _sink = SmtpSink.Start(lab.PrimarySmtp, options.Messages);
        long back = await open;
        SmtpSink sink = _sink;
        (long first, long last) respaldo = await UnlessHeldAsync(token => sink.WaitAsync(PhaseTimeout, token));
        await WaitBackupEmptyAsync();
        int respaldoExtra = sink.Messages - options.Messages;
        ProbeHistory? probes = ProbeHistory.Read(lab["JOURNAL"], _tenant, WallClock(back));
        await StopSinkAsync();

        say("(c) postqueue -f into the sink ...");
        _sink = SmtpSink.Start(lab.PrimarySmtp, options.Messages);
        await PortWatch.WaitOpenAsync(lab.PrimarySmtp, TimeSpan.FromMinutes(1), _cancel);
        await Relay.StartAsync();
        await Relay.FlushAsync();
        (long first, long last) postfix = await _sink.WaitAsync(PhaseTimeout, _cancel);
        await WaitUntilAsync(() => Relay.QueueCounts() == (0, 0), TimeSpan.FromMilliseconds(200), () => $"relay queue {Relay.QueueCounts()}");
        int postfixExtra = _sink.Messages - options.Messages;
        await StopSinkAsync();
        await Relay.StopAsync();

        double respaldoRate = Rate(respaldo.first, respaldo.last);
        double postfixRate = Rate(postfix.first, postfix.last);
        _sinkVsPostfix = respaldoRate / postfixRate;
        _report.Note("");
        _report.Note($"the same into an smtp-sink primary (accepts and discards)");
        _report.Row("(c) sink accepts connections -> first / last message",
            $"{Seconds(back, respaldo.first):0.0} / {Seconds(back, respaldo.last):0.0} s",
            probes is null ? "" : $"probe interval {probes.Interval.TotalSeconds:0.0} s after {probes.FailedProbes} failed probes over {probes.Outage.TotalSeconds:0} s");
        _report.Row("(c) hand-over rate into the sink (first -> last)", $"{respaldoRate:0} msg/s",
            $"postqueue -f: {postfixRate:0} msg/s", ">= 2x", _sinkVsPostfix >= 2);
        _report.Row("    ratio Respaldo / Postfix", $"{_sinkVsPostfix:0.00}x");
        if (respaldoExtra != 0 || postfixExtra != 0)
        {
            _report.Row("    messages beyond the expected at the sink", $"{respaldoExtra}", $"postqueue -f: {postfixExtra}");
        }
        await SinkReferenceAsync(filler);
    }

    /// <summary>
    /// Issue 14's honest reference: Respaldo against smtp-source into the same sink, each side
    /// <see cref="BenchOptions.SinkRuns"/> times with <see cref="BenchOptions.SinkMessages"/>
    /// messages, the sides taking turns (so a neighbour's build slows both alike), the median
    /// of each side compared; beside each rate the CPU seconds per 1,000 messages of the sender
    /// and of the sink. Note: the sink is single-threaded and shares the two cores with the
    /// sender, so the ratio alone partly measures the CPU a sender leaves to the sink.
    /// </summary>
    private async Task SinkReferenceAsync(MaildirFiller filler)
    {
        int n = options.SinkMessages;
        var respaldo = new List<SideRun>();
        var source = new List<SideRun>();
        for (int run = 1; run <= options.SinkRuns; run++)
        {
            say($"(c) reference run {run} of {options.SinkRuns}: {n} messages written into the maildirs, the sink down ...");
            long arrivals = ArrivalCount();
            long filling = Stopwatch.GetTimestamp();
            filler.Fill(_recipients, n, _ => { });
            double written = Stopwatch.GetElapsedTime(filling).TotalSeconds;
            await WaitUntilAsync(() => ArrivalCount() - arrivals >= n, TimeSpan.FromMilliseconds(200),
                () => $"the controller saw {ArrivalCount() - arrivals} of the {n} messages written");
            say(string.Create(CultureInfo.InvariantCulture,
                $"(c)   written in {written:0} s, all seen by the controller after {Stopwatch.GetElapsedTime(filling).TotalSeconds:0} s; the sink comes up, Respaldo hands over ..."));
            TimeSpan cpuBefore = Controller.CpuTime;
            long up = Stopwatch.GetTimestamp();
            SmtpSink sink = _sink = SmtpSink.Start(lab.PrimarySmtp, n);
            var sinkMeter = await ProcessMeter.OpenAsync(sink.Pid);
            (long first, long last) = await UnlessHeldAsync(token => sink.WaitAsync(PhaseTimeout, token));
            say(string.Create(CultureInfo.InvariantCulture, $"(c)   first message {Seconds(up, first):0.0} s after the sink started, the last {Seconds(first, last):0.0} s later"));
            respaldo.Add(new SideRun(Rate(n, first, last), Controller.CpuTime - cpuBefore, sinkMeter.CpuTime));
            await WaitBackupEmptyAsync();
            await StopSinkAsync();

            say($"(c)   smtp-source -d -s {Connections} into the sink ...");
            sink = _sink = SmtpSink.Start(lab.PrimarySmtp, n);
            sinkMeter = await ProcessMeter.OpenAsync(sink.Pid);
            await PortWatch.WaitOpenAsync(lab.PrimarySmtp, TimeSpan.FromMinutes(1), _cancel);
            TimeSpan sourceCpu = await SmtpSource.BlastAsync(lab.PrimarySmtp, _recipients[0], n, options.MessageSize, Connections);
            (first, last) = await sink.WaitAsync(PhaseTimeout, _cancel);
            source.Add(new SideRun(Rate(n, first, last), sourceCpu, sinkMeter.CpuTime));
            await StopSinkAsync();
            say(string.Create(CultureInfo.InvariantCulture,
                $"(c)   run {run}: Respaldo {respaldo[^1].Rate:0} msg/s, smtp-source {source[^1].Rate:0} msg/s ({respaldo[^1].Rate / source[^1].Rate:0.00}x)"));
        }

        SideRun r = SideRun.Median(respaldo);
        SideRun s = SideRun.Median(source);
        _sinkVsSource = r.Rate / s.Rate;
        _cpuRespaldo = r.SenderCpu.TotalSeconds * 1000 / n;
        _cpuSource = s.SenderCpu.TotalSeconds * 1000 / n;
        _cpuSinkRespaldo = r.SinkCpu.TotalSeconds * 1000 / n;
        _cpuSinkSource = s.SinkCpu.TotalSeconds * 1000 / n;
        string runs = options.SinkRuns == 1 ? "1 run" : $"median of {options.SinkRuns} runs";
        _report.Row($"(c) reference: {n} messages written into the maildirs, into the sink ({runs})", $"{r.Rate:0} msg/s",
            $"runs {string.Join(" / ", respaldo.Select(x => x.Rate.ToString("0", CultureInfo.InvariantCulture)))} msg/s");
        _report.Row("    CPU per 1,000 messages: respaldod / the sink", $"{_cpuRespaldo:0.00} / {_cpuSinkRespaldo:0.00} s");
        _report.Row($"    smtp-source -d -s {Connections} into the sink, {n} messages ({runs})", $"{s.Rate:0} msg/s",
            $"runs {string.Join(" / ", source.Select(x => x.Rate.ToString("0", CultureInfo.InvariantCulture)))} msg/s");
        _report.Row("    CPU per 1,000 messages: smtp-source / the sink", $"{_cpuSource:0.00} / {_cpuSinkSource:0.00} s");
        _report.Row($"    ratio Respaldo / smtp-source (the machine's limit)", $"{_sinkVsSource:0.00}x", "", ">= 0.5x", _sinkVsSource >= 0.5);
    }

    /// <summary>One side's run of the reference: its rate, the sender's and the sink's CPU time.</summary>
    private sealed record SideRun(double Rate, TimeSpan SenderCpu, TimeSpan SinkCpu)
    {
        /// <summary>The run of median rate (its CPU figures with it); the lower middle of an even count.</summary>
        public static SideRun Median(List<SideRun> runs) => Benchmark.Median(runs, x => x.Rate);
    }

    /// <summary>Rows in the journal's arrivals table: one per message the controller has seen arrive.</summary>
    private long ArrivalCount()
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = lab["JOURNAL"], Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using SqliteCommand count = connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM arrivals";
        return (long)count.ExecuteScalar()!;
    }

    // ---- (d): one large message -----------------------------------------------------------

    private async Task LargeMessageAsync()
    {
        string file = Path.Combine(lab.Directory, "large.eml");
        LargeMessage.Write(file, options.LargeMessageBytes, SmtpSource.Sender, _recipients[0]);
        long size = new FileInfo(file).Length;
        say($"(d) a {Mib(size):0} MiB message: into Respaldo while the primary is down, then handed over to the sink ...");
        await SmtpSource.SendFileAsync(lab.BackupSmtp, _recipients[0], file);
        await WaitUntilAsync(() => MaildirWatch.Count(lab["BACKUP_MAILDIRS"]) == 1, TimeSpan.FromMilliseconds(200), () => "the large message is not stored");
        // Let the controller see it and settle into probing the absent primary.
        await Task.Delay(TimeSpan.FromSeconds(3), _cancel);
        long idle = Controller.RssBytes;
        bool reset = Controller.ResetPeak();
        using var sampling = new CancellationTokenSource();
        Task<long> sampled = SampleRssAsync(sampling.Token);
        SmtpSink sink = _sink = SmtpSink.Start(lab.PrimarySmtp, 1);
        await UnlessHeldAsync(token => sink.WaitAsync(PhaseTimeout, token));
        await WaitBackupEmptyAsync();
        await sampling.CancelAsync();
        long sampledPeak = await sampled;
        long peak = reset ? Math.Max(Controller.PeakRssBytes, sampledPeak) : sampledPeak;
        await StopSinkAsync();

        _rssAdded = Math.Max(0, peak - idle);
        _largeMib = Mib(size);
        _report.Note("");
        _report.Row($"(d) controller peak RSS handing over a {Mib(size):0} MiB message",
            $"+{Mib(_rssAdded):0.0} MiB", $"RSS just before {Mib(idle):0.0} MiB, peak {Mib(peak):0.0} MiB ({(reset ? "VmHWM" : "sampled")})", "< +32 MiB", _rssAdded < 32L * 1024 * 1024);
    }

    // ---- (f): the border's cost at intake ---------------------------------------------------

    private async Task IntakeAsync()
    {
        var intake = new IntakePhase(options, say);
        await intake.RunAsync(_cancel);
        _intakeRatio = intake.Ratio;
        _rspamdPss = intake.RspamdPss;
        _report.Note("");
        _report.Note("the border at intake (a lab of its own: postscreen, rspamd as the milter)");
        _report.Row("(f) intake rate with the border (smtp-source -> stored)", $"{intake.Filtered:0} msg/s",
            $"without the milter: {intake.Unfiltered:0} msg/s", ">= 0.8x", intake.Ratio >= 0.8);
        _report.Row("    ratio with / without", $"{intake.Ratio:0.00}x");
        _report.Row("    rspamd's memory (PSS, all processes)", $"{Mib(intake.RspamdPss):0.0} MiB", $"{intake.RspamdProcesses} processes");
    }

    private async Task<long> SampleRssAsync(CancellationToken cancellationToken)
    {
        long peak = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            peak = Math.Max(peak, Controller.RssBytes);
            try
            {
                await Task.Delay(5, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        return Math.Max(peak, Controller.RssBytes);
    }

    public string LastLine() => string.Create(CultureInfo.InvariantCulture,
        $"bench: first={_first:0.0}s last={_last:0.0}s realprimary={_realRatio:0.00}x sink={_sinkVsPostfix:0.00}x(postfix) {_sinkVsSource:0.00}x(smtp-source) rss+{_largeMib:0}MB={Mib(_rssAdded):0.0}MiB idlecpu={_idleCpu:0.00}% intake={_intakeRatio:0.00}x(border) rspamd={Mib(_rspamdPss):0}MiB ") + string.Create(CultureInfo.InvariantCulture,
        $"cpu/1k={_cpuRespaldo:0.00}s(respaldod) {_cpuSource:0.00}s(smtp-source) {_cpuSinkRespaldo:0.00}/{_cpuSinkSource:0.00}s(sink)");

    // ---- helpers ------------------------------------------------------------------------

    private void ReportDuplicates(string where, int respaldo, int postfix)
    {
        if (respaldo != 0 || postfix != 0)
        {
            _report.Row($"    messages beyond the expected at the {where}", $"{respaldo}", $"postqueue -f: {postfix}");
        }
    }

    private async Task StopSinkAsync()
    {
        if (_sink is not null)
        {
            await _sink.DisposeAsync();
            _sink = null;
        }
        await WaitUntilAsync(() => !PortWatch.IsOpen(lab.PrimarySmtp), TimeSpan.FromMilliseconds(50), () => "the sink's port stays open");
    }

    /// <summary>
    /// Waits for Respaldo's hand-over to reach the primary, unless the controller holds messages
    /// meanwhile. Note: nothing the benchmark sends should ever be held (every recipient is one
    /// of the primary's mailboxes, every message fits its SIZE); a held message never reaches
    /// the primary, so the phase fails at once, naming the mailboxes and the primary's reply,
    /// rather than after the phase's timeout.
    /// </summary>
    private async Task<T> UnlessHeldAsync<T>(Func<CancellationToken, Task<T>> wait)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_cancel);
        Task<T> waiting = wait(stop.Token);
        while (await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromMilliseconds(500), _cancel)) != waiting)
        {
            int held = HeldMessages.Count(lab["HOLD_DIR"]);
            if (held > 0)
            {
                await stop.CancelAsync();
                try
                {
                    await waiting;
                }
                catch (OperationCanceledException) when (!_cancel.IsCancellationRequested)
                {
                }
                throw new InvalidOperationException(
                    $"{held} messages in the hold area instead of at the primary (journal so far: {HeldMessages.Describe(lab["JOURNAL"], _tenant)}); " +
                    "the phase would wait for them in vain. The benchmark must send only to mailboxes the lab's primary has (BenchLab.SampleMailboxesAsync)");
            }
        }
        return await waiting;
    }

    private Task WaitBackupEmptyAsync() =>
        WaitUntilAsync(() => MaildirWatch.Count(lab["BACKUP_MAILDIRS"]) == 0, TimeSpan.FromMilliseconds(200),
            () => $"{MaildirWatch.Count(lab["BACKUP_MAILDIRS"])} messages still at the backup");

    private async Task WaitPrimaryQueueEmptyAsync()
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < PhaseTimeout)
        {
            ProcessRunner.Result q = await ProcessRunner.RunAsync("postqueue", ["-c", lab["PRIMARY_POSTFIX"], "-p"]);
            if (q.Output.Contains("Mail queue is empty", StringComparison.Ordinal))
            {
                return;
            }
            await Task.Delay(200, _cancel);
        }
        throw new TimeoutException("the primary's queue does not empty");
    }

    private async Task WaitUntilAsync(Func<bool> condition, TimeSpan poll, Func<string> why)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > PhaseTimeout)
            {
                throw new TimeoutException($"after {PhaseTimeout.TotalSeconds:0} s: {why()}");
            }
            await Task.Delay(poll, _cancel);
        }
    }

    /// <summary>The run whose <paramref name="figure"/> is the median; the lower middle of an even count.</summary>
    private static T Median<T>(IReadOnlyList<T> runs, Func<T, double> figure) => runs.OrderBy(figure).ElementAt((runs.Count - 1) / 2);

    private double Rate(long first, long last) => Rate(options.Messages, first, last);

    private static double Rate(int messages, long first, long last) => messages / Math.Max(Seconds(first, last), 1e-3);

    private static double Seconds(long from, long to) => (double)(to - from) / Stopwatch.Frequency;

    private static DateTimeOffset WallClock(long timestamp) => DateTimeOffset.UtcNow - Stopwatch.GetElapsedTime(timestamp);

    private static double Mib(long bytes) => bytes / (1024.0 * 1024.0);
}
