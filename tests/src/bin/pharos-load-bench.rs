//! Load benchmark: Pharos ingests by remote write (the ingestion
//! benchmark's workload and sender) for a fixed period alone, then for the
//! same period while many clients ask heavy and hostile queries in a loop,
//! then alone again. Reports ingestion under load against alone, how the
//! queries were answered (and whether in Prometheus' words), memory against
//! a bound derived from the query limits, and whether the server stayed up
//! and ready throughout. Exits non-zero when a target is missed.
//!
//! See `tests/bench/README.md`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::Parser;
use pharos_tests::bench::heavy::{self, Names};
use pharos_tests::bench::loadreport::{self as report, Bound, Measured, Phase, Snap};
use pharos_tests::bench::procfs;
use pharos_tests::bench::server::Server;
use pharos_tests::bench::stream::{StreamConfig, StreamStats, stream};
use pharos_tests::bench::watch::{WatchConfig, WatchStats, watch};
use pharos_tests::bench::workload::Params;

#[derive(Parser, Debug)]
#[command(about = "Ingest into Pharos alone, then under 50 clients of heavy queries, and compare.")]
struct Args {
    /// Series (the ingestion benchmark's workload).
    #[arg(long, default_value_t = 100_000)]
    series: usize,
    /// Seconds between a series' samples in the data.
    #[arg(long, default_value_t = 15)]
    interval: u64,
    /// Series per remote-write request.
    #[arg(long, default_value_t = 5_000)]
    batch: usize,
    /// Concurrent remote-write senders.
    #[arg(long, default_value_t = 4)]
    senders: usize,
    /// Samples per second to offer at most; 0 sends as fast as Pharos
    /// acknowledges (the ingestion benchmark's way).
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Seed of the generated data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Seconds of each measured period (alone, under load, alone again).
    #[arg(long, default_value_t = 60)]
    period: u64,
    /// Seconds of ingestion before the first period (series creation).
    #[arg(long, default_value_t = 15)]
    warmup: u64,
    /// Skip the second period alone, after the load.
    #[arg(long)]
    no_after: bool,
    /// Query clients during the load period.
    #[arg(long, default_value_t = 50)]
    clients: usize,
    /// Ask only the queries whose name contains one of these (see the
    /// README for the names); all by default.
    #[arg(long, value_delimiter = ',')]
    queries: Vec<String>,
    /// Terms of the `a+a+…+a` query and depth of the nested parentheses.
    #[arg(long, default_value_t = 100_000)]
    terms: usize,
    /// `[query] timeout` of the server, in seconds.
    #[arg(long, default_value_t = 15)]
    query_timeout: u64,
    /// `[query] max_samples` of the server.
    #[arg(long, default_value_t = 5_000_000)]
    max_samples: u64,
    /// `[query] max_concurrency` of the server.
    #[arg(long, default_value_t = 4)]
    max_concurrency: u64,
    /// Bytes a query may use per sample it is allowed to hold, for the
    /// memory bound (see the README).
    #[arg(long, default_value_t = 64)]
    bytes_per_sample: u64,
    /// Least ingestion rate under load, as a share of the rate alone.
    #[arg(long, default_value_t = 0.8)]
    min_ratio: f64,
    /// Milliseconds between `/-/ready` polls, and how long one may take.
    #[arg(long, default_value_t = 250)]
    ready_every_ms: u64,
    #[arg(long, default_value_t = 2_000)]
    ready_timeout_ms: u64,
    /// Kill the server when its RSS passes this many MiB (a safety net for
    /// the machine, far above any bound).
    #[arg(long, default_value_t = 8_192)]
    kill_above_mib: u64,
    /// The Pharos binary (default: `pharos` next to this binary).
    #[arg(long)]
    pharos_bin: Option<PathBuf>,
    /// Also write every figure as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Where to create the data directory (default: /tmp).
    #[arg(long, default_value = "/tmp")]
    work_dir: PathBuf,
    /// Keep the data directory and server log.
    #[arg(long)]
    keep: bool,
}

const DAY_MS: i64 = 86_400_000;

fn main() -> Result<()> {
    let args = Args::parse();
    if args.series == 0 || args.batch == 0 || args.senders == 0 || args.clients == 0 {
        bail!("--series, --batch, --senders and --clients must be positive");
    }
    let bin = match &args.pharos_bin {
        Some(b) => b.clone(),
        None => std::env::current_exe()?.with_file_name("pharos"),
    };
    let dir = tempfile::Builder::new()
        .prefix("loadbench-")
        .tempdir_in(&args.work_dir)
        .context("creating the work directory")?;
    let config = format!(
        "[global]\nscrape_interval = \"15s\"\n\n[query]\ntimeout = \"{}s\"\nmax_samples = {}\nmax_concurrency = {}\n",
        args.query_timeout, args.max_samples, args.max_concurrency
    );
    let load_before = report::loadavg();
    let mut server = Server::start_pharos(&bin, dir.path(), &config)?;
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    if let Err(e) = server.wait_ready(&client, Duration::from_secs(60)) {
        bail!(
            "pharos did not become ready: {e:#}\n{}",
            server.log_tail(20)
        );
    }
    let pid = server.pid();
    eprintln!(
        "pharos pid {pid} on {}, data in {:?}",
        server.base_url,
        dir.path()
    );

    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as i64;
    let params = Params {
        series: args.series,
        samples: usize::MAX,
        interval_ms: (args.interval * 1000) as i64,
        jitter_ms: 2.min(args.interval as i64 * 250),
        batch: args.batch,
        // A day back, so that a day-long range covers all the data.
        start_ms: now_ms - DAY_MS,
        seed: args.seed,
    };
    let scfg = StreamConfig {
        base_url: server.base_url.clone(),
        params,
        concurrency: args.senders,
        rate: args.rate,
    };
    let wcfg = WatchConfig {
        pid,
        ready_url: format!("{}/-/ready", server.base_url),
        poll_every: Duration::from_millis(args.ready_every_ms),
        poll_timeout: Duration::from_millis(args.ready_timeout_ms),
        kill_above: args.kill_above_mib << 20,
    };
    let (sstats, wstats) = (StreamStats::default(), WatchStats::default());
    let (stop_stream, stop_watch) = (AtomicBool::new(false), AtomicBool::new(false));
    let measured = std::thread::scope(|s| {
        let streamer = s.spawn(|| stream(&scfg, &sstats, &stop_stream));
        let watcher = s.spawn(|| watch(&wcfg, &wstats, &stop_watch));
        let m = run_phases(&args, &server.base_url, pid, &sstats, &wstats);
        stop_stream.store(true, Ordering::Relaxed);
        stop_watch.store(true, Ordering::Relaxed);
        for (name, h) in [("sender", streamer), ("watcher", watcher)] {
            match h.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => eprintln!("{name}: {e:#}"),
                Err(_) => eprintln!("{name} panicked"),
            }
        }
        m
    });
    let mut measured = measured?;
    measured.load_before = load_before;
    measured.memory_end = procfs::memory(pid).ok();
    measured.alive_end =
        server.running() && !wstats.lost.load(Ordering::Relaxed) && measured.memory_end.is_some();
    measured.ready_errors = wstats.ready_errors();
    measured.write_errors = sstats.errors();
    if !measured.alive_end {
        measured.log_tail = server.log_tail(30);
    }
    measured.clean_exit = server.stop(Duration::from_secs(120))?;
    let kept = args.keep.then(|| dir.keep());

    let verdict = report::print(&args_view(&args), &measured);
    if let Some(path) = &args.json {
        let doc = report::json(&args_view(&args), &measured, &verdict);
        std::fs::write(path, serde_json::to_string_pretty(&doc)?)
            .with_context(|| format!("writing {path:?}"))?;
    }
    if let Some(k) = kept {
        println!("kept {}", k.display());
    }
    if !verdict.failures.is_empty() {
        println!("FAILED: {} target(s) missed", verdict.failures.len());
        for f in &verdict.failures {
            println!("  {f}");
        }
        std::process::exit(1);
    }
    Ok(())
}

/// The settings the report prints.
fn args_view(a: &Args) -> report::Settings {
    report::Settings {
        series: a.series,
        interval: a.interval,
        batch: a.batch,
        senders: a.senders,
        rate: a.rate,
        period: a.period,
        clients: a.clients,
        terms: a.terms,
        queries: a.queries.clone(),
        query_timeout: a.query_timeout,
        max_samples: a.max_samples,
        max_concurrency: a.max_concurrency,
        bytes_per_sample: a.bytes_per_sample,
        min_ratio: a.min_ratio,
        ready_every_ms: a.ready_every_ms,
        ready_timeout_ms: a.ready_timeout_ms,
    }
}

/// Sleeps `secs` seconds, or less when the server is gone. Returns
/// whether it is still there.
fn wait(secs: f64, w: &WatchStats) -> bool {
    let until = Instant::now() + Duration::from_secs_f64(secs);
    while Instant::now() < until {
        if w.lost.load(Ordering::Relaxed) || w.killed.load(Ordering::Relaxed) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    true
}

fn run_phases(
    args: &Args,
    base_url: &str,
    pid: u32,
    st: &StreamStats,
    w: &WatchStats,
) -> Result<Measured> {
    let mut m = Measured::new(pid);
    // Warm-up: every series created, some data to query.
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(args.warmup) || st.scrapes.load(Ordering::Relaxed) < 2
    {
        if !wait(0.5, w) || t0.elapsed() > Duration::from_secs(args.warmup + 300) {
            m.note(format!(
                "warm-up did not finish: {} scrapes in {:.0} s",
                st.scrapes.load(Ordering::Relaxed),
                t0.elapsed().as_secs_f64()
            ));
            return Ok(m);
        }
    }
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let names = heavy::pick_names(&client, base_url, st.data_end_ms.load(Ordering::Relaxed))
        .unwrap_or_else(|e| {
            m.note(format!("picking metric names: {e:#}"));
            Names {
                bucket: "http_server_request_duration_seconds_bucket".into(),
                counter: "http_server_requests_total".into(),
            }
        });
    let mix: Vec<_> = heavy::mix(&names, args.terms)
        .into_iter()
        .filter(|q| args.queries.is_empty() || args.queries.iter().any(|f| q.name.contains(f)))
        .collect();
    if mix.is_empty() {
        bail!("no query name contains one of {:?}", args.queries);
    }
    m.names = names;
    eprintln!(
        "warm-up done: {} scrapes; {{bucket}} = {}, {{counter}} = {}",
        st.scrapes.load(Ordering::Relaxed),
        m.names.bucket,
        m.names.counter
    );
    let period = args.period as f64;

    eprintln!("period 1: ingestion alone, {period} s");
    w.take_peak();
    let a = Snap::take(st, w, pid);
    let up = wait(period, w);
    m.phases.push(Phase::between(
        "alone",
        &a,
        &Snap::take(st, w, pid),
        w.take_peak(),
    ));
    if !up {
        return Ok(m);
    }

    eprintln!(
        "period 2: ingestion under {} query clients, {period} s",
        args.clients
    );
    let stop = AtomicBool::new(false);
    let a = Snap::take(st, w, pid);
    let (outcomes, b, drain) = std::thread::scope(|s| {
        let clients = s.spawn(|| {
            heavy::run_clients(
                base_url,
                &mix,
                args.clients,
                Duration::from_secs(args.query_timeout + 30),
                &st.data_end_ms,
                &stop,
            )
        });
        wait(period, w);
        let b = Snap::take(st, w, pid);
        stop.store(true, Ordering::Relaxed);
        let outcomes = clients.join();
        let drain = b.t.elapsed();
        (outcomes, b, drain)
    });
    let mut phase = Phase::between("under load", &a, &b, w.take_peak());
    phase.drain_s = drain.as_secs_f64();
    m.phases.push(phase);
    m.outcomes = match outcomes {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => return Err(e),
        Err(_) => bail!("a query client panicked"),
    };
    m.mix = mix;
    eprintln!(
        "{} queries answered; clients done {:.1} s after the period",
        m.outcomes.len(),
        drain.as_secs_f64()
    );

    if !args.no_after && wait(0.0, w) {
        eprintln!("period 3: ingestion alone again, {period} s");
        let a = Snap::take(st, w, pid);
        wait(period, w);
        m.phases.push(Phase::between(
            "alone, after",
            &a,
            &Snap::take(st, w, pid),
            w.take_peak(),
        ));
    }
    m.peak_sampled = w.peak.load(Ordering::Relaxed);
    m.ready_polls = w.ready_polls.load(Ordering::Relaxed);
    m.ready_failures = w.ready_failures.load(Ordering::Relaxed);
    m.ready_max_ms = w.ready_max_ms.load(Ordering::Relaxed);
    m.killed = w.killed.load(Ordering::Relaxed);
    m.bound = Some(Bound::from_limits(
        &m.phases[0],
        args.max_concurrency,
        args.max_samples,
        args.bytes_per_sample,
    ));
    Ok(m)
}
